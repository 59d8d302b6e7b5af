// Vite bundles a stylesheet imported for its effect; tsc only needs to know the import is allowed.
declare module "*.css";
