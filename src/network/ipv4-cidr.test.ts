import { describe, expect, it } from "vitest";
import { parseIpv4Cidr } from "./ipv4-cidr.ts";

describe("parseIpv4Cidr", () => {
  it.each([
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.168.1.5", "192.168.1.5/32"],
    ["172.31.255.255/12", "172.16.0.0/12"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    [" 169.254.169.254/32 ", "169.254.169.254/32"],
  ])("normalises %s to %s, as iptables prints it", (text, cidr) => {
    expect(parseIpv4Cidr(text)).toBe(cidr);
  });

  it.each(["10.0.0.0/33", "256.0.0.1", "10.0.0", "fc00::/7", "010.0.0.1", "10.0.0.1/", "example.com", ""])(
    "refuses %j",
    (text) => {
      expect(parseIpv4Cidr(text)).toBeUndefined();
    },
  );
});
