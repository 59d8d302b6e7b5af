import { describe, expect, it } from "vitest";
import { blockedResolvers } from "./blocked-resolvers.ts";
import { egressPolicy } from "./egress-policy.ts";
import { type Ipv4Cidr, ipv4InCidr } from "./ipv4-cidr.ts";

const conf =
  "# generated\nsearch example.internal\nnameserver 10.255.255.53\nnameserver 127.0.0.53\nnameserver 1.1.1.1\nnameserver fd00::1\n";

describe("blockedResolvers", () => {
  it("names the host's resolvers in a blocked range, but not loopback ones (Docker reaches those from the host)", () => {
    expect(blockedResolvers(conf, egressPolicy([], []))).toEqual(["10.255.255.53"]);
  });

  it("names none once the operator allows the resolver", () => {
    expect(blockedResolvers(conf, egressPolicy(["10.255.255.53/32" as Ipv4Cidr], []))).toEqual([]);
  });
});

describe("ipv4InCidr", () => {
  it.each([
    ["10.255.255.53", "10.0.0.0/8", true],
    ["11.0.0.1", "10.0.0.0/8", false],
    ["172.31.0.1", "172.16.0.0/12", true],
    ["172.32.0.1", "172.16.0.0/12", false],
    ["1.2.3.4", "0.0.0.0/0", true],
    ["fd00::1", "0.0.0.0/0", false],
  ] as const)("%s in %s: %s", (ip, cidr, inside) => {
    expect(ipv4InCidr(ip, cidr as Ipv4Cidr)).toBe(inside);
  });
});
