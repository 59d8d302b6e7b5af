/** Every connection of an owner joins that owner's room; admins join theirs. Pushes go to both. */
export const ownerRoom = (owner: string): string => `owner:${owner}`;
export const ADMIN_ROOM = "admins";
/** The subscribers of one container's workload messages. */
export const MESSAGES_ROOM_PREFIX = "messages:";
export const messagesRoom = (id: string): string => `${MESSAGES_ROOM_PREFIX}${id}`;
