import { BerthError } from "../errors/berth-error.ts";

/**
 * The connection already has its cap of channel calls waiting for an answer.
 * The same code as a workload's full queue (CHANNEL_BUSY): either way the
 * client should wait for answers before it sends more.
 */
export class RequestsInFlightError extends BerthError {
  constructor(limit: number) {
    super(
      "CHANNEL_BUSY",
      `This connection has ${limit} requests waiting for an answer; wait for some before sending more.`,
      { details: { inFlight: limit, limit } },
    );
  }
}

/**
 * The connection already has its cap of large reads (`container:logs`, `container:stats`, a status with its
 * spec) under way. RATE_LIMITED, as for any request that comes too fast; `details.limit` names this cap, and
 * there is no `retryAfterMs`: the client should wait for one of its answers.
 */
export class ReadsInFlightError extends BerthError {
  constructor(max: number) {
    super(
      "RATE_LIMITED",
      `This connection has ${max} log, stats and spec reads under way; wait for an answer first.`,
      {
        details: { limit: "reads_in_flight", max },
      },
    );
  }
}

/** The connection holds its cap of subscriptions, log follows and stats watches. */
export class TooManySubscriptionsError extends BerthError {
  constructor(limit: number) {
    super(
      "TOO_MANY_SUBSCRIPTIONS",
      `This connection already holds ${limit} subscriptions, log follows and stats watches; end one first.`,
      { details: { limit } },
    );
  }
}

/**
 * The connection that asked is gone: what it started is cancelled (a pending channel call) or closed
 * as soon as it is opened (a log follow). Nobody receives it; it names the cause in berth's log.
 */
export class ConnectionClosedError extends BerthError {
  constructor() {
    super("CONNECTION_CLOSED", "The client's connection closed before the answer was ready.");
  }
}
