// The standard CRC-32C check: "123456789" gives 0xE3069283. A native implementation that does not
// (a wrong build, a different polynomial) is not used (engine/crc32c.ts, gateway/client/crc32c.ts).

const CHECK_INPUT = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
const CHECK_VALUE = 0xe3069283;

/** Whether `crc32c` gives the check value (false when it throws). */
export function crc32cPassesCheck(crc32c: (bytes: Uint8Array) => number): boolean {
  try {
    return crc32c(CHECK_INPUT) >>> 0 === CHECK_VALUE;
  } catch {
    return false;
  }
}
