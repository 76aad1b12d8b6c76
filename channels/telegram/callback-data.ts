/**
 * The `callback_data` of a Telegram inline button: `<promptId>:<buttonIndex>`, never the label,
 * so it stays within Telegram's 64-byte limit whatever the labels are (emoji, long words). In a
 * group, `:<userId>` follows: the member the question is for (group-chat.ts). Every member sees
 * the keyboard and the data comes back from whoever taps, so this is how a tap by someone else
 * is told apart, without a lookup; and prompt ids are per conversation (`p1` of two members'
 * surveys in one chat), so it also keeps one member's tap off another's question.
 *
 * @example
 * encodeCallbackData("p12", 3);             // "p12:3"
 * encodeCallbackData("p12", 3, "381234567"); // "p12:3:381234567"
 * decodeCallbackData("p12:3:381234567");    // { promptId: "p12", buttonIndex: 3, member: "381234567" }
 */

/** Telegram refuses a button whose callback_data is longer than this many bytes. */
export const MAX_CALLBACK_DATA_BYTES = 64;

/** What a button that only shows a closed prompt's answer carries; a tap on it is answered as stale. */
export const CLOSED_CALLBACK_DATA = "-";

const PATTERN = /^([A-Za-z0-9_-]{1,56}):([0-9]{1,4})(?::([1-9][0-9]{0,15}))?$/;

export interface CallbackTarget {
  promptId: string;
  buttonIndex: number;
  /** In a group: the user id of the member whose question it is. */
  member?: string;
}

/** The callback_data of button `index` of prompt `promptId` (for `member` in a group); throws if it would not fit (it always does for `p<seq>` ids). */
export function encodeCallbackData(promptId: string, index: number, member?: string): string {
  const data = member === undefined ? `${promptId}:${index}` : `${promptId}:${index}:${member}`;
  if (!PATTERN.test(data) || Buffer.byteLength(data) > MAX_CALLBACK_DATA_BYTES) {
    throw new Error(`prompt id "${promptId.slice(0, 80)}" with button ${index} does not fit Telegram's callback_data (64 bytes, [A-Za-z0-9_-] ids)`);
  }
  return data;
}

/** The prompt and button a tap names; undefined for data this channel did not write (old or forged buttons). */
export function decodeCallbackData(data: string | undefined): CallbackTarget | undefined {
  if (data === undefined) return undefined;
  const m = PATTERN.exec(data);
  if (!m) return undefined;
  const target: CallbackTarget = { promptId: m[1] as string, buttonIndex: Number(m[2]) };
  if (m[3] !== undefined) target.member = m[3];
  return target;
}
