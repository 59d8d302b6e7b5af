// The ES module face of the CommonJS implementation: one copy of the code, so
// `import` and `require` in the same process share one set of classes.
import sdk from "./index.cjs";

export const { connect, WorkloadClient, BerthWorkloadError, PROTOCOL_VERSION } = sdk;
export default sdk;
