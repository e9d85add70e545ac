/** Text from the network shown on a terminal: no escape sequences or control characters get through. */
export function safeLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '�');
}

/** A timestamp as the CLI prints it: `YYYY-MM-DD HH:MM:SS` (UTC). */
export function formatTime(ts: number): string {
  return new Date(ts).toISOString().replace('T', ' ').slice(0, 19);
}
