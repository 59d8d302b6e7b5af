// A berth workload: answers every request with a greeting, and tells its subscribers when it starts.
const { connect } = require("@berth/workload"); // in berth's runtime image already

const berth = connect({ meta: { example: "hello" } });
berth.onRequest((data) => ({ hello: data?.name ?? "world" }));
berth.ready.then(() => {
  console.log("hello is ready");
  berth.send({ event: "started" });
});
