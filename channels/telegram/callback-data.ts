/**
 * The `callback_data` of a Telegram inline button: `<promptId>:<buttonIndex>`, never the label,
 * so it stays within Telegram's 64-byte limit whatever the labels are (emoji, long words).
 *
 * @example
 * encodeCallbackData("p12", 3); // "p12:3"
 * decodeCallbackData("p12:3");  // { promptId: "p12", buttonIndex: 3 }
 */

/** Telegram refuses a button whose callback_data is longer than this many bytes. */
export const MAX_CALLBACK_DATA_BYTES = 64;

/** What a button that only shows a closed prompt's answer carries; a tap on it is answered as stale. */
export const CLOSED_CALLBACK_DATA = "-";

const PATTERN = /^([A-Za-z0-9_-]{1,56}):([0-9]{1,4})$/;

export interface CallbackTarget {
  promptId: string;
  buttonIndex: number;
}

/** The callback_data of button `index` of prompt `promptId`; throws if it would not fit (it always does for `p<seq>` ids). */
export function encodeCallbackData(promptId: string, index: number): string {
  const data = `${promptId}:${index}`;
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
  return { promptId: m[1] as string, buttonIndex: Number(m[2]) };
}
