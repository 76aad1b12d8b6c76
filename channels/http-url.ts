/** Whether `raw` parses as an http: or https: URL (a channel's API root, a local fake server in tests). */
export function isHttpUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}
