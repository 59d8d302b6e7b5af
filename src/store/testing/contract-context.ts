import type { ContainerRecord, ReleaseRecord, Store } from "../store-ports.ts";

/** What the store contract needs of one kind of store. */
export interface StoreHarness {
  /** A new, empty store (each test gets its own; the suite closes it). */
  open(): Promise<Store>;
  /** A container row's spec exactly as the database holds it (no cipher, no parsing). */
  rawSpec(store: Store, id: string): Promise<string>;
  /** A second store on the same database, with connections of its own (as another API server opens it); the caller closes it. */
  reopen(store: Store): Promise<Store>;
}

/** What each part of the contract is given: the current test's store, and record factories. */
export interface ContractContext {
  harness: StoreHarness;
  /** The store of the test under way. */
  store(): Store;
  /** A container record with a unique uid; `extra` overrides any field. */
  container(id: string, extra?: Partial<ContainerRecord>): ContainerRecord;
  release(containerId: string, number: number, extra?: Partial<ReleaseRecord>): ReleaseRecord;
}

export const ids = (records: ContainerRecord[]): string[] => records.map((r) => r.id);
