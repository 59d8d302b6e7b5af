// Types for index.mjs: the same API as index.cjs, whose declarations are the one source.
import * as sdk from "./index.cjs";

export * from "./index.cjs";
export default sdk;
