/** Whether a peer address (as uWS prints it) is the loopback interface. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (a === '::1' || a === '0000:0000:0000:0000:0000:0000:0000:0001') return true;
  if (a.startsWith('127.')) return true;
  // IPv4-mapped IPv6, in its short or its long (uWS) form
  return a.startsWith('::ffff:127.') || a.startsWith('0000:0000:0000:0000:0000:ffff:7f');
}
