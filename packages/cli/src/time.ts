// Wall-clock times for people: local time with its UTC offset (the zone
// honours TZ), or UTC with --utc. Times come as ns since the Unix epoch
// (events' wallTimeNs).
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The UTC offset of `date` in this zone, e.g. +01:00, -05:30; Z for UTC. */
function zone(date: Date, utc: boolean): string {
  if (utc) return 'Z';
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

function parts(epochNs: bigint, utc: boolean) {
  const date = new Date(Number(epochNs / 1_000_000n));
  const get = utc
    ? { y: date.getUTCFullYear(), mo: date.getUTCMonth() + 1, d: date.getUTCDate(), h: date.getUTCHours(), mi: date.getUTCMinutes(), s: date.getUTCSeconds() }
    : { y: date.getFullYear(), mo: date.getMonth() + 1, d: date.getDate(), h: date.getHours(), mi: date.getMinutes(), s: date.getSeconds() };
  return { ...get, ms: date.getUTCMilliseconds(), zone: zone(date, utc) };
}

/** Time of day to the millisecond with the zone: 14:05:03.123+01:00 (14:05:03.123Z with utc). */
export function timeOfDay(epochNs: bigint, utc = false): string {
  const p = parts(epochNs, utc);
  return `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}.${pad(p.ms, 3)}${p.zone}`;
}

/** Date and time to the second with the zone: 2026-12-01 14:05:03+01:00. */
export function dateTime(epochNs: bigint, utc = false): string {
  const p = parts(epochNs, utc);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${p.zone}`;
}
