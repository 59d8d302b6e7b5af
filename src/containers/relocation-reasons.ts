/** The reasons of the two status changes a move off a lost node makes (relocate-container.ts); the feed tells them in words of its own. */
export const NODE_LOST = "its node was lost";
export const MOVED = "moved to another node";
