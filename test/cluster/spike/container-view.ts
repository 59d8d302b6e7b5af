import type Dockerode from "dockerode";
import { parseProbeOutput } from "./hardening-probe.ts";
import { sleep } from "./spike-log.ts";

/** What an engine says of a container's confinement, beside what the probe reads from inside. */
export async function engineView(docker: Dockerode, id: string): Promise<Record<string, unknown>> {
  const c = await docker.getContainer(id).inspect();
  const h = c.HostConfig as Record<string, unknown>;
  return {
    User: c.Config.User,
    CapDrop: h.CapDrop,
    SecurityOpt: h.SecurityOpt,
    ReadonlyRootfs: h.ReadonlyRootfs,
    Init: h.Init,
    Memory: h.Memory,
    MemorySwap: h.MemorySwap,
    PidsLimit: h.PidsLimit,
    NanoCpus: h.NanoCpus,
    IpcMode: h.IpcMode,
    NetworkMode: h.NetworkMode,
    Networks: Object.fromEntries(
      Object.entries(c.NetworkSettings.Networks ?? {}).map(([name, n]) => [name, n.IPAddress || null]),
    ),
    Tmpfs: h.Tmpfs,
    Mounts: c.Mounts.map((m) => `${m.Type} ${m.Source} -> ${m.Destination} ${m.RW ? "rw" : "ro"}`),
    Labels: Object.keys(c.Config.Labels ?? {}).sort(),
  };
}

async function output(docker: Dockerode, id: string): Promise<string> {
  return (await docker.getContainer(id).logs({ stdout: true, stderr: true })).toString();
}

/** How many times the container's probe has printed its line (once per start). */
export async function probeLines(docker: Dockerode, id: string): Promise<number> {
  return (await output(docker, id)).split("BERTH-HARDENING ").length - 1;
}

/** The probe's findings, once the container has printed them (within 10 s). */
export async function probeOutput(docker: Dockerode, id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const seen = parseProbeOutput(await output(docker, id));
    if (seen) return seen;
    await sleep(100);
  }
  throw new Error(`container ${id} printed no probe line`);
}
