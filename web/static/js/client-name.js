// The name this browser goes by in the lease (banners, the Control panel, events): picked by the operator,
// remembered per browser, defaulted from the device. Pure functions (storage and user agent are passed in).

const STORAGE_KEY = 'rcLabel';
/** The server keeps at most this many characters of a name. */
export const MAX_NAME_LENGTH = 80;

/** "iPad", "iPhone", "Android tablet", "Android phone", "Windows", "Mac", "ChromeOS", "Linux" or "Browser". */
export function deviceName(userAgent, maxTouchPoints = 0) {
  const ua = userAgent || '';
  if (/iPad/.test(ua)) return 'iPad';
  if (/iPhone|iPod/.test(ua)) return 'iPhone';
  // iPadOS Safari asks for desktop sites: it says Macintosh, but a Mac has no touch screen
  if (/Macintosh/.test(ua) && maxTouchPoints > 1) return 'iPad';
  if (/Android/.test(ua)) return /Mobile/.test(ua) ? 'Android phone' : 'Android tablet';
  if (/Windows/.test(ua)) return 'Windows';
  if (/Macintosh|Mac OS X/.test(ua)) return 'Mac';
  if (/CrOS/.test(ua)) return 'ChromeOS';
  if (/Linux|X11/.test(ua)) return 'Linux';
  return 'Browser';
}

/** "Edge", "Opera", "Firefox", "Chrome", "Safari" or "" (the order matters: Edge and Opera also say Chrome). */
export function browserName(userAgent) {
  const ua = userAgent || '';
  if (/Edg(e|A|iOS)?\//.test(ua)) return 'Edge';
  if (/OPR\/|Opera/.test(ua)) return 'Opera';
  if (/Firefox\/|FxiOS\//.test(ua)) return 'Firefox';
  if (/Chrom(e|ium)\/|CriOS\//.test(ua)) return 'Chrome';
  if (/Safari\//.test(ua)) return 'Safari';
  return '';
}

/** The default name from the device and the browser, e.g. "iPad · Safari", "Linux · Chrome". */
export function defaultClientName(userAgent, maxTouchPoints = 0) {
  const device = deviceName(userAgent, maxTouchPoints);
  const browser = browserName(userAgent);
  return browser ? `${device} · ${browser}` : device;
}

/** A typed name on one line, trimmed and bounded ("" when nothing is left: then the default applies). */
export function cleanClientName(text) {
  return String(text ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').split(/\s+/).filter(Boolean).join(' ')
    .slice(0, MAX_NAME_LENGTH);
}

/** The name this browser picked, or the device default. */
export function loadClientName(storage, userAgent, maxTouchPoints = 0) {
  let stored = '';
  try {
    stored = cleanClientName(storage?.getItem(STORAGE_KEY));
  } catch {
    stored = ''; // storage can be blocked (private mode): the default still works
  }
  return stored || defaultClientName(userAgent, maxTouchPoints);
}

/** Remember a picked name (an empty one goes back to the default); returns the name now in use. */
export function saveClientName(storage, text, userAgent, maxTouchPoints = 0) {
  const name = cleanClientName(text);
  try {
    if (name) storage.setItem(STORAGE_KEY, name);
    else storage.removeItem(STORAGE_KEY);
  } catch {
    // not remembered across visits, but used now
  }
  return name || defaultClientName(userAgent, maxTouchPoints);
}
