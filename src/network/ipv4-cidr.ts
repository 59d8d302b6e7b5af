/**
 * An IPv4 range in CIDR notation, normalised (`10.1.2.3/8` → `10.0.0.0/8`), so
 * that the rule berth checks for with `iptables -C` is spelled exactly as
 * iptables prints it back. A bare address means its /32.
 */
export type Ipv4Cidr = string & { readonly __brand: "Ipv4Cidr" };

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;

/** The normalised range, or undefined when `text` is not an IPv4 address or CIDR. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const m = OCTETS.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  if (m.slice(1, 5).some((o) => o.length > 1 && o.startsWith("0"))) return undefined; // 010 reads as octal to some tools
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (prefix > 32) return undefined;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const base = value - (value % size);
  const out = [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256).join(".");
  return `${out}/${prefix}` as Ipv4Cidr;
}

/** Whether the IPv4 address `ip` lies in `cidr`; false for anything that is not an IPv4 address. */
export function ipv4InCidr(ip: string, cidr: Ipv4Cidr): boolean {
  const address = parseIpv4Cidr(ip);
  if (address === undefined || !address.endsWith("/32")) return false;
  const [base = "", prefix = "32"] = cidr.split("/");
  return parseIpv4Cidr(`${address.slice(0, -3)}/${prefix}`) === `${base}/${prefix}`;
}
