/**
 * The normalized change: what a record source's decoder produces and the planner consumes.
 * The planner never looks at a raw record; a new source is a new decoder.
 *
 * @module
 */
import type { Image } from './attributes.js';
import type { RuleContext } from './rules.js';

/**
 * Where records come from. `dynamodb-streams` records carry `dynamodb.SequenceNumber` and
 * `eventSourceARN`; `kinesis` records are the JSON payloads of Kinesis Data Streams for
 * DynamoDB: no sequence number, the table in `tableName`, and `ApproximateCreationDateTime`
 * in milli- or microseconds.
 */
export type RecordSource = 'dynamodb-streams' | 'kinesis';

/** `INSERT`, `MODIFY` or `REMOVE`. */
export type EventName = RuleContext['eventName'];

/**
 * The images of a change, converted from AttributeValue form. The built-in sources return
 * images that convert each attribute when it is first read (docs/codecs.md, "What is validated,
 * and when"); a custom decoder may return fully converted ones.
 */
export interface ChangeImages {
  readonly keys: Image;
  /** Absent on REMOVE, and when the stream view carries no new image. */
  readonly newImage: Image | undefined;
  /** Absent on INSERT, and when the stream view carries no old image. */
  readonly oldImage: Image | undefined;
}

/** One item change, whatever stream it came from. */
export interface StreamChange {
  /** The DynamoDB Streams `SequenceNumber`; undefined for sources that carry none (Kinesis). */
  readonly sequenceNumber: string | undefined;
  /** When the change was made, in epoch seconds, when the record says. */
  readonly approximateCreationDateTime: number | undefined;
  readonly eventName: EventName;
  readonly table: string | undefined;
  /** `StreamViewType`, for error hints. */
  readonly view: string | undefined;
  /** A REMOVE made by DynamoDB's Time to Live. */
  readonly ttlDelete: boolean;
  /**
   * The images, converted on demand: a record no rule applies to is skipped without its
   * images being parsed, so a malformed image of another table's record is not an error.
   * Throws a plan failure naming the bad field.
   */
  readonly images: () => ChangeImages;
}

/** What a source guarantees, which decides the rules it can safely run. */
export interface SourceTraits {
  readonly source: RecordSource;
  /** Human name for errors, e.g. `Kinesis Data Streams`. */
  readonly label: string;
  /** Records of one item arrive in order, each once (until retried from a failure point). */
  readonly ordered: boolean;
  /** Records carry a DynamoDB `SequenceNumber` (usable as a version). */
  readonly sequenceNumbers: boolean;
}

/** Turns one record of a source into a {@link StreamChange}; throws a plan failure if it cannot. */
export interface ChangeDecoder {
  readonly traits: SourceTraits;
  decode(record: unknown): StreamChange;
}
