// whatsapp-web.js pulls in puppeteer; botflow uses Debian's chromium instead, so
// `npm ci` must never try to download a browser (there is no internet beyond the registry).
/** @type {import("puppeteer").Configuration} */
module.exports = { skipDownload: true, chrome: { skipDownload: true }, "chrome-headless-shell": { skipDownload: true }, firefox: { skipDownload: true } };
