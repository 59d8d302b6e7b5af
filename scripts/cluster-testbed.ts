// The cluster test bed by hand (test/cluster/testbed/): three dockerd in network
// namespaces of their own, one Swarm of three managers, berth's runtime image on each.
//   node_modules/.bin/node scripts/cluster-testbed.ts up      bring it up (clearing what an earlier run left)
//   node_modules/.bin/node scripts/cluster-testbed.ts status  engines, links, `docker node ls`, leftovers
//   node_modules/.bin/node scripts/cluster-testbed.ts down    tear it all down
// Each node's engine answers on its own socket, e.g. `docker -H unix:///tmp/berthc/n1/d.sock node ls`.
import { Testbed } from "../test/cluster/testbed/testbed.ts";

const verb = process.argv[2];
const started = performance.now();
if (verb === "up") {
  const bed = await Testbed.up();
  console.log(bed.timer.toString());
  console.log(`up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.table(await bed.nodeLs());
} else if (verb === "down") {
  const bed = Testbed.attach();
  await bed.down();
  console.log(`down in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const { leftovers } = await bed.status();
  console.log("left over:", JSON.stringify(leftovers));
} else if (verb === "status") {
  const { nodes, swarm, leftovers } = await Testbed.attach().status();
  console.table(nodes);
  if (typeof swarm === "string") console.log(`swarm: ${swarm}`);
  else
    console.table(
      swarm.map(({ manager, ...n }) => ({
        ...n,
        leader: manager?.leader,
        reachability: manager?.reachability,
      })),
    );
  console.log("found by name:", JSON.stringify(leftovers));
} else {
  console.error("usage: cluster-testbed.ts up|down|status");
  process.exitCode = 2;
}
