/** Every connection of an owner joins that owner's room; admins join theirs. Pushes go to both. */
export const ownerRoom = (owner: string): string => `owner:${owner}`;
export const ADMIN_ROOM = "admins";
/** The subscribers of one container's workload messages. */
export const messagesRoom = (id: string): string => `messages:${id}`;
