import { describe, expect, it } from "vitest";
import {
  parseCount,
  parseMemoryMax,
  statValue,
  sumBlkioV1,
  sumIoStatV2,
  sumNetDev,
} from "./cgroup-parsers.ts";
import { CgroupUnavailableError } from "./cgroup-unavailable-error.ts";

describe("cgroup file parsers", () => {
  it("reads single-number files and refuses anything else", () => {
    expect(parseCount("91425699\n", "cpuacct.usage")).toBe(91425699);
    expect(() => parseCount("\n", "pids.current")).toThrow(CgroupUnavailableError);
    expect(() => parseCount("max\n", "pids.current")).toThrow(CgroupUnavailableError);
  });

  it('reads memory.max, where "max" means no limit', () => {
    expect(parseMemoryMax("max\n")).toBeUndefined();
    expect(parseMemoryMax("134217728\n")).toBe(134217728);
  });

  it("finds whole keys only in flat-keyed files", () => {
    const stat = "inactive_file 5\ntotal_inactive_file 7\nfile 9";
    expect(statValue(stat, "total_inactive_file")).toBe(7);
    expect(statValue(stat, "inactive_file")).toBe(5);
    expect(statValue("total_inactive_file 7\n", "inactive_file")).toBeUndefined();
    expect(statValue(stat, "file")).toBe(9);
    expect(statValue(stat, "missing")).toBeUndefined();
  });

  it("sums Read and Write of v1 blkio over devices, ignoring the other operations", () => {
    const text =
      "8:16 Read 10\n8:16 Write 1\n8:16 Total 11\n8:0 Read 20\n8:0 Write 2\n8:0 Sync 22\nTotal 33\n";
    expect(sumBlkioV1(text)).toEqual({ read: 30, write: 3 });
    expect(sumBlkioV1("Total 0\n")).toEqual({ read: 0, write: 0 });
  });

  it("sums rbytes and wbytes of v2 io.stat over devices", () => {
    const text =
      "8:16 rbytes=10 wbytes=1 rios=1 wios=1 dbytes=0 dios=0\n8:0 rbytes=20 wbytes=2 rios=3 wios=4\n";
    expect(sumIoStatV2(text)).toEqual({ read: 30, write: 3 });
    expect(sumIoStatV2("")).toEqual({ read: 0, write: 0 });
  });

  it("sums the network interfaces but loopback, also when a large counter touches the colon", () => {
    const text = [
      "Inter-|   Receive                                                |  Transmit",
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
      "    lo:    1520      20    0    0    0     0          0         0     1520      20    0    0    0     0       0          0",
      "  eth0:123456789012 95231    0    0    0     0          0         0 48273910   51022    0    0    0     0       0          0",
      "  eth1:       5       1    0    0    0     0          0         0        7       1    0    0    0     0       0          0",
    ].join("\n");
    expect(sumNetDev(text)).toEqual({ rx: 123456789017, tx: 48273917 });
  });
});
