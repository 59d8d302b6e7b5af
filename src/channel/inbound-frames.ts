import type { RepeatedLog } from "../logging/repeated-log.ts";
import { BadFrameMeter } from "./bad-frame-meter.ts";
import { WorkloadError } from "./channel-errors.ts";
import type { ContainerTraffic } from "./channel-observer.ts";
import type { DisconnectReason } from "./channel-types.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import type { FrameWriter } from "./frame-writer.ts";
import { encodeFrame, encodePong, type ProtocolErrorCode } from "./protocol.ts";
import { readWorkloadFrame } from "./read-workload-frame.ts";
import type { RoundTrips } from "./round-trips.ts";
import type { WorkloadRequests } from "./workload-requests.ts";

export interface InboundFramesOptions {
  containerId: string;
  limits: ConnectionLimits;
  requests: WorkloadRequests;
  roundTrips: RoundTrips;
  writer: FrameWriter;
  repeated: RepeatedLog;
  traffic: ContainerTraffic | undefined;
  onMessage: (data: unknown, ts: number) => void;
  /** Cuts the connection off, telling the peer why (too many bad frames). */
  close: (reason: DisconnectReason, error: { code: ProtocolErrorCode; message: string }) => void;
}

/**
 * What a ready connection does with each frame its workload sends: answers
 * settle their requests and pings, messages go to the channel, pings are
 * answered, and bad frames are counted, told to the peer (within reason)
 * and logged once, then counted — a peer that keeps sending them is cut off.
 */
export class InboundFrames {
  readonly #options: InboundFramesOptions;
  readonly #badFrames: BadFrameMeter;

  constructor(options: InboundFramesOptions) {
    this.#options = options;
    this.#badFrames = new BadFrameMeter(options.limits.badFrameLimit, options.limits.badFrameWindowMs);
  }

  /** Bad frames received on this connection. */
  get badFrames(): number {
    return this.#badFrames.total;
  }

  /** Handles one frame; true when it answered berth (a response or a pong), which is never charged. */
  frame(line: string): boolean {
    const frame = readWorkloadFrame(line);
    switch (frame.type) {
      case "response":
        this.#onResponse(frame.id, frame.data, frame.error, line.length);
        return true;
      case "message":
        this.#options.onMessage(frame.data, Date.now());
        return false;
      case "ping":
        this.#options.writer.writeIfRoom(encodePong(frame.id));
        return false;
      case "pong":
        // Only a pong berth was waiting for is an answer: any other is sent unasked, and charged.
        return frame.id !== undefined && this.#options.roundTrips.answered(frame.id);
      case "too_deep": {
        const id = frame.responseId;
        if (id === undefined) {
          this.bad("BAD_FRAME", frame.message, line.length);
          return false;
        }
        // The answer is refused, so its request ends now rather than at its timeout.
        const refused = `berth refused the answer: ${frame.message}`;
        this.#options.requests.fail(id, new WorkloadError({ message: refused, code: "BAD_FRAME" }));
        this.bad("BAD_FRAME", frame.message, line.length, { id });
        return false;
      }
      case "bad":
        this.bad(frame.code, frame.message, line.length, frame.about);
        return frame.answer;
    }
  }

  /** Counts a bad frame, tells the peer (within reason), and cuts off a peer that keeps doing it. */
  bad(
    code: ProtocolErrorCode,
    message: string,
    bytes: number,
    about: { id?: string; type?: string } = {},
  ): void {
    const { containerId, limits, traffic, repeated } = this.#options;
    traffic?.frameRefused(code);
    const tooMany = this.#badFrames.record(Date.now());
    const badFrames = this.#badFrames.total;
    // Sizes and kinds only: the frame itself may hold application data or secrets.
    repeated.warn(
      `${containerId}:bad_frame`,
      { containerId },
      { code, bytes, badFrames, type: about.type },
      "dropped bad frame",
    );
    if (tooMany) {
      this.#options.close("too_many_bad_frames", {
        code: "TOO_MANY_BAD_FRAMES",
        message: `More than ${limits.badFrameLimit} bad frames within ${limits.badFrameWindowMs} ms.`,
      });
      return;
    }
    const frame: { type: "error"; code: ProtocolErrorCode; message: string; id?: string } = {
      type: "error",
      code,
      message,
    };
    if (about.id !== undefined) frame.id = about.id;
    this.#options.writer.writeIfRoom(encodeFrame(frame));
  }

  #onResponse(
    id: string,
    data: unknown,
    error: { message: string; code?: string } | undefined,
    bytes: number,
  ) {
    const outcome = this.#options.requests.answer(id, data, error);
    if (outcome === "late") {
      // The request timed out or was aborted before the answer came: the workload did nothing wrong.
      const containerId = this.#options.containerId;
      this.#options.repeated.debug(
        `${containerId}:late_response`,
        { containerId },
        { requestId: id },
        "dropped late response",
      );
    } else if (outcome === "unknown") {
      this.bad("UNKNOWN_REQUEST", "No request with this id is waiting for an answer.", bytes, { id });
    }
  }
}
