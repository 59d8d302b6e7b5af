/**
 * The workload every berth container of the channel benchmark runs: the SDK
 * from the runtime image, answering each request with its data.
 */
export const SDK_ECHO_WORKLOAD = `const { connect } = require("@berth/workload");
connect({ meta: { app: "bench-echo" } }).onRequest((data) => data);
`;
