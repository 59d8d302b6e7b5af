import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../agent-link/agent-credential.ts";
import { loadAgentConfig } from "./agent-config.ts";
import { ConfigError, loadConfig } from "./config.ts";

const TOKEN = "a".repeat(64);
const CREDENTIAL = deriveAgentCredential(TOKEN, "node1");
const AGENT = {
  BERTH_AGENT_SERVERS: "https://10.0.0.5:7300, https://api.example:443, http://127.0.0.1:7300",
  BERTH_AGENT_CREDENTIAL: CREDENTIAL,
};

const dir = mkdtempSync(join(tmpdir(), "berth-agent-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file in the test's directory with this text and mode. */
function file(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** The message of the ConfigError that `load` throws. */
function refusal(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("not refused");
}

describe("the node agent's configuration", () => {
  it("reads the servers, its node's credential and its node's engine", () => {
    expect(loadAgentConfig({ ...AGENT, DOCKER_HOST: "unix:///run/d.sock" })).toEqual({
      servers: ["https://10.0.0.5:7300", "https://api.example:443", "http://127.0.0.1:7300"],
      credential: CREDENTIAL,
      ca: undefined,
      dockerSocket: "/run/d.sock",
      logLevel: "info",
      mountRoot: "/var/lib/berth-agent",
      allowHttp: false,
      // Its node's workload channels, with the API server's defaults.
      maxFrameBytes: 1024 * 1024,
      maxRequestTimeoutMs: 30_000,
      channelMessageRate: 5_000,
      channelMessageBytesRate: 8 * 1024 * 1024,
      // Its lease: shorter than Swarm's failure detection; the workloads stopped a minute after it lapsed.
      leaseMs: 8_000,
      fenceGraceMs: 60_000,
      stopTimeoutSec: 10,
      // Its node's egress filter: the defaults' blocks alone, checked every 30 s.
      egressAllow: [],
      egressBlock: [],
      egressRecheckMs: 30_000,
    });
    expect(loadAgentConfig({ ...AGENT, BERTH_MAX_FRAME_BYTES: "65536" }).maxFrameBytes).toBe(65_536);
    expect(loadAgentConfig({ ...AGENT, BERTH_AGENT_MOUNT_ROOT: "/srv/berth" }).mountRoot).toBe("/srv/berth");
    // Judged as resolved: each of these is `/`, under which a workload could mount anything.
    for (const root of ["/", "//", "/srv/..", "/./", "relative/path"])
      expect(refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_MOUNT_ROOT: root }))).toContain(
        "BERTH_AGENT_MOUNT_ROOT",
      );
    expect(loadAgentConfig({ ...AGENT, BERTH_AGENT_MOUNT_ROOT: "/srv//berth/" }).mountRoot).toBe(
      "/srv/berth",
    );
    expect(loadAgentConfig({ ...AGENT, BERTH_DOCKER_SOCKET: "/x.sock" }).dockerSocket).toBe("/x.sock");
  });

  it("takes a lease and a fence grace, and refuses a lease too short to be renewed in time", () => {
    const fencing = loadAgentConfig({
      ...AGENT,
      BERTH_AGENT_LEASE_MS: "3000",
      BERTH_AGENT_FENCE_GRACE_MS: "0",
    });
    expect(fencing).toMatchObject({ leaseMs: 3_000, fenceGraceMs: 0 });
    // The API servers renew every second: a lease shorter than two renewals would lapse on a late one.
    expect(refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_LEASE_MS: "1500" }))).toContain(
      "BERTH_AGENT_LEASE_MS",
    );
  });

  it("reads its node's own egress policy, and refuses what is not an IPv4 range", () => {
    const config = loadAgentConfig({
      ...AGENT,
      BERTH_EGRESS_ALLOW: "10.9.0.53, 192.168.1.0/24",
      BERTH_EGRESS_BLOCK: "203.0.113.0/24",
      BERTH_AGENT_EGRESS_RECHECK_MS: "5000",
    });
    expect(config.egressAllow).toEqual(["10.9.0.53/32", "192.168.1.0/24"]);
    expect(config.egressBlock).toEqual(["203.0.113.0/24"]);
    expect(config.egressRecheckMs).toBe(5_000);
    expect(refusal(() => loadAgentConfig({ ...AGENT, BERTH_EGRESS_ALLOW: "0.0.0.0/99" }))).toContain(
      "BERTH_EGRESS_ALLOW",
    );
  });

  it("refuses plain http to another host, unless the operator says the network is its own", () => {
    const plain = { ...AGENT, BERTH_AGENT_SERVERS: "http://10.0.0.5:7300" };
    expect(refusal(() => loadAgentConfig(plain))).toContain("use https");
    expect(loadAgentConfig({ ...plain, BERTH_AGENT_ALLOW_HTTP: "true" })).toMatchObject({ allowHttp: true });
  });

  it("needs servers and a credential", () => {
    expect(refusal(() => loadAgentConfig({ BERTH_AGENT_CREDENTIAL: CREDENTIAL }))).toContain(
      "BERTH_AGENT_SERVERS is required",
    );
    expect(refusal(() => loadAgentConfig({ BERTH_AGENT_SERVERS: "http://127.0.0.1:1" }))).toContain(
      "BERTH_AGENT_CREDENTIAL_FILE (or BERTH_AGENT_CREDENTIAL) is required",
    );
  });

  it("refuses to start with the master key, BERTH_AGENT_TOKEN, set, saying what to do instead", () => {
    const message = refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_TOKEN: TOKEN }));
    expect(message).toContain("BERTH_AGENT_TOKEN is set: a node agent must not hold the master key");
    expect(message).toContain("npm run agent:credential");
    expect(message).not.toContain(TOKEN);
  });

  it("refuses what is not a credential (the master key given as one, say) without quoting it", () => {
    const message = refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_CREDENTIAL: TOKEN }));
    expect(message).toContain("BERTH_AGENT_CREDENTIAL is not a node agent's credential");
    expect(message).not.toContain(TOKEN);
  });

  it("reads the credential from a file that only its owner may open, trimmed", () => {
    const { BERTH_AGENT_SERVERS } = AGENT;
    const fromFile = (path: string) =>
      loadAgentConfig({ BERTH_AGENT_SERVERS, BERTH_AGENT_CREDENTIAL_FILE: path });
    const path = file("credential", `${CREDENTIAL}\n`, 0o600);
    expect(fromFile(path).credential).toBe(CREDENTIAL);
    expect(fromFile(file("read-only", CREDENTIAL, 0o400)).credential).toBe(CREDENTIAL);
    for (const mode of [0o640, 0o604, 0o660, 0o644, 0o610, 0o601]) {
      const message = refusal(() => fromFile(file(`open-${mode.toString(8)}`, CREDENTIAL, mode)));
      expect(message, mode.toString(8)).toContain(`has mode 0${mode.toString(8)}`);
      expect(message).not.toContain(CREDENTIAL);
    }
    expect(refusal(() => fromFile(join(dir, "absent")))).toContain("cannot read");
    expect(refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_CREDENTIAL_FILE: path }))).toContain(
      "not both",
    );
  });

  it("reads the CA to pin from BERTH_AGENT_CA_FILE, and refuses a file with no certificate", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    expect(loadAgentConfig({ ...AGENT, BERTH_AGENT_CA_FILE: file("ca.pem", pem, 0o644) }).ca).toBe(pem);
    const none = file("none.pem", "not a certificate", 0o644);
    expect(refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_CA_FILE: none }))).toContain(
      "holds no PEM certificate",
    );
  });

  it("refuses a server that is not an http(s) URL, or one with credentials", () => {
    for (const server of ["10.0.0.5:7300", "ws://a:1", "http://user:pw@a:1"])
      expect(
        refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_SERVERS: server })),
        server,
      ).toContain("BERTH_AGENT_SERVERS");
  });
});

describe("BERTH_AGENT_TOKEN on the API server", () => {
  it("is unset by default: single-host mode", () => {
    expect(loadConfig({}).agentToken).toBeUndefined();
    expect(loadConfig({ BERTH_AGENT_TOKEN: "" }).agentToken).toBeUndefined();
  });

  it("is taken when long enough, and refused when short, without being quoted", () => {
    expect(loadConfig({ BERTH_AGENT_TOKEN: TOKEN }).agentToken).toBe(TOKEN);
    const message = refusal(() => loadConfig({ BERTH_AGENT_TOKEN: "x".repeat(31) }));
    expect(message).toContain("BERTH_AGENT_TOKEN");
    expect(message).not.toContain("x".repeat(31));
  });

  it("must not be the admin's or an owner's token", () => {
    expect(refusal(() => loadConfig({ BERTH_AGENT_TOKEN: TOKEN, BERTH_ADMIN_TOKEN: TOKEN }))).toContain(
      "must differ",
    );
    expect(refusal(() => loadConfig({ BERTH_AGENT_TOKEN: TOKEN, BERTH_TOKENS: `alice:${TOKEN}` }))).toContain(
      "must differ",
    );
  });
});
