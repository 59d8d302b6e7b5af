/**
 * What the clients of the kill rounds were told, container by container:
 * the last operation acknowledged as done, and the one that was under way
 * when berth was killed (its answer never came). After berth is back, an
 * acknowledged operation must still be done; a cut one finished or undone.
 */
export type LedgerOp = "create" | "start" | "stop" | "restart" | "update" | "rollback" | "delete";

export interface Entry {
  owner: "alice" | "bob";
  name: string;
  /** Unknown while its create has not been answered. */
  id?: string;
  /** A workload that exits with code 1 a second after it starts, under `restartPolicy: 'on-failure'`. */
  crasher: boolean;
  /** What the acknowledged operations leave: gone, stopped, or running on `release` answering `version`. */
  expect: { kind: "gone" } | { kind: "stopped"; release: number } | { kind: "running"; release: number };
  /** Version answered by each release the clients were told about. */
  versions: Map<number, string>;
  /** An operation under way on it (one at a time), and whether the kill cut it. */
  busy?: LedgerOp;
  cut?: LedgerOp;
  /** An answer that leaves its state to berth (a documented error other than a rolled-back update). */
  unsure?: string;
}

export class KillLedger {
  readonly entries: Entry[] = [];
  /** Documented errors answered before the kill, by code. */
  readonly errors = new Map<string, number>();
  answers = 0;

  live(owner: Entry["owner"]): Entry[] {
    return this.entries.filter((e) => e.owner === owner && e.expect.kind !== "gone");
  }

  /** Forgets containers that are gone for good, and clears each round's marks. */
  nextRound(): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as Entry;
      e.busy = undefined;
      e.cut = undefined;
      e.unsure = undefined;
      if (e.expect.kind === "gone") this.entries.splice(i, 1);
    }
  }

  /** The entry of a container berth lists: by id, or by owner and name for a create whose answer the kill cut. */
  of(c: { id: string; owner: string; name: string }): Entry | undefined {
    return this.entries.find(
      (e) => e.id === c.id || (e.id === undefined && e.owner === c.owner && e.name === c.name),
    );
  }

  refused(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}
