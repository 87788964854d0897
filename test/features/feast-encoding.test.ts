import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import {
  FeastKeyLayout,
  ID_SEPARATOR,
  UNSUPPORTED,
  compileFeatures,
  decodeFeastValue,
  decodeTimestampMs,
  encodeFeastValue,
  encodeTimestamp,
  feastFieldName,
  murmur3x86_32,
} from '../../src/features/index.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

describe('MurmurHash3 x86 32-bit', () => {
  // published vectors: SMHasher-derived set by Ian Boyd (stackoverflow 31929528), Python mmh3's tests
  const vectors: [Uint8Array, number, number][] = [
    [bytes(''), 0, 0],
    [bytes(''), 1, 0x514e28b7],
    [bytes(''), 0xffffffff, 0x81f16f39],
    [Buffer.from([0, 0, 0, 0]), 0, 0x2362f9de],
    [Buffer.from([0x21, 0x43, 0x65, 0x87]), 0, 0xf55b516b],
    [bytes('a'), 0x9747b28c, 0x7fa09ea6],
    [bytes('ab'), 0x9747b28c, 0x74875592],
    [bytes('abc'), 0x9747b28c, 0xc84a62dd],
    [bytes('abcd'), 0x9747b28c, 0xf0478627],
    [bytes('aaaa'), 0x9747b28c, 0x5a97808a],
    [bytes('abc'), 0, 0xb3dd93fa],
    [bytes('Hello, world!'), 0x9747b28c, 0x24884cba],
    [bytes('ππππππππ'), 0x9747b28c, 0xd58063c1],
    [bytes('a'.repeat(256)), 0x9747b28c, 0x37405bdc],
    [bytes('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
    [bytes('foo'), 0, 4138058784], // mmh3.hash("foo", signed=False), the library Feast calls
  ];
  it.each(vectors.map(([data, seed, want]) => [Buffer.from(data).toString('hex') || '(empty)', data, seed, want] as const))(
    'hash of %s matches the published value',
    (_label, data, seed, want) => {
      expect(murmur3x86_32(data, seed)).toBe(want);
    },
  );

  it("names a Feast feature's hash field as the 4 little-endian bytes of the hash of <feature_view>:<feature>", () => {
    const field = feastFieldName('driver_hourly_stats', 'conv_rate');
    expect(field.length).toBe(4);
    expect(field.readUInt32LE(0)).toBe(murmur3x86_32(bytes('driver_hourly_stats:conv_rate'), 0));
  });
});

describe('Feast entity key (serialization v3 + project)', () => {
  it('lays out one STRING join key byte for byte', () => {
    const key = new FeastKeyLayout([{ name: 'customer_id', type: 'STRING' }], 'shop').key(['c1']);
    const want = Buffer.concat([u32(1), u32(2), u32(11), bytes('customer_id'), u32(2), u32(2), bytes('c1'), bytes('shop')]);
    expect(key?.toString('hex')).toBe(want.toString('hex'));
  });

  it('sorts several join keys by name and serializes INT64, INT32 and BYTES values little-endian', () => {
    const layout = new FeastKeyLayout(
      [
        { name: 'zone', type: 'INT32' },
        { name: 'driver_id', type: 'INT64' },
        { name: 'blob', type: 'BYTES' },
      ],
      'rides',
    );
    expect(layout.keys.map((k) => k.name)).toEqual(['blob', 'driver_id', 'zone']);
    const key = layout.key(['xy', '1001', '-2'])!;
    const i64 = Buffer.alloc(8);
    i64.writeBigInt64LE(1001n);
    const i32 = Buffer.alloc(4);
    i32.writeInt32LE(-2);
    const want = Buffer.concat([
      u32(3),
      u32(2), u32(4), bytes('blob'),
      u32(2), u32(9), bytes('driver_id'),
      u32(2), u32(4), bytes('zone'),
      u32(1), u32(2), bytes('xy'),
      u32(4), u32(8), i64,
      u32(3), u32(4), i32,
      bytes('rides'),
    ]);
    expect(key.toString('hex')).toBe(want.toString('hex'));
  });

  // Feast 0.67's serialize_entity_key(EntityKey(join_keys=['\U0001F600id', '\uff5eid', 'a'],
  // entity_values=[string_val 'x', int64_val 5, int32_val -1]), version 3) + b'p': Python sorts
  // by code point, so '～id' (U+FF5E) comes before '😀id' (U+1F600, UTF-16 0xD83D 0xDE00)
  const FEAST_ASTRAL_KEY =
    '030000000200000001000000610200000005000000efbd9e69640200000006000000f09f988069640300000004000000ffffffff04000000080000000500000000000000020000000100000078' +
    Buffer.from('p').toString('hex');

  it('sorts join key names by code point, as Feast does (not by UTF-16 code unit)', () => {
    const layout = new FeastKeyLayout(
      [
        { name: '😀id', type: 'STRING' },
        { name: '～id', type: 'INT64' },
        { name: 'a', type: 'INT32' },
      ],
      'p',
    );
    expect(layout.keys.map((k) => k.name)).toEqual(['a', '～id', '😀id']);
    expect(layout.key(['-1', '5', 'x'])?.toString('hex')).toBe(FEAST_ASTRAL_KEY);
  });

  it("reads a compiled view's entity inputs in the order its key layout serializes them", () => {
    const { views } = compileFeatures(
      { v: { format: 'feast', project: 'p', feature_view: 'fv', join_keys: { '😀id': 'STRING', '～id': 'INT64', a: 'INT32' }, fields: ['f'] } },
      {},
      process.cwd(),
    );
    const view = views.get('v')!;
    expect(view.entityInputs).toEqual(['a', '～id', '😀id']);
    const values: Record<string, string> = { a: '-1', '～id': '5', '😀id': 'x' };
    const id = view.entityInputs.map((name) => values[name]).join(ID_SEPARATOR);
    expect(Buffer.from(view.codec.key(id)).toString('hex')).toBe(FEAST_ASTRAL_KEY);
  });

  it('refuses an id that is not a value of an integer join key', () => {
    const layout = new FeastKeyLayout([{ name: 'driver_id', type: 'INT64' }], 'rides');
    expect(layout.key(['abc'])).toBeNull();
    expect(layout.key(['9223372036854775808'])).toBeNull();
  });
});

describe('feast.types.Value and Timestamp', () => {
  const value = (field: number, wire: WireType, write: (w: BinaryWriter) => void) => {
    const w = new BinaryWriter().tag(field, wire);
    write(w);
    return w.finish();
  };

  it('decodes the numeric, bool and string kinds', () => {
    expect(decodeFeastValue(value(3, WireType.Varint, (w) => w.int32(-7)))).toBe(-7);
    expect(decodeFeastValue(value(4, WireType.Varint, (w) => w.int64(123456789012345n)))).toBe(123456789012345n);
    expect(decodeFeastValue(value(5, WireType.Bit64, (w) => w.double(0.1)))).toBe(0.1);
    expect(decodeFeastValue(value(6, WireType.Bit32, (w) => w.float(1.5)))).toBe(1.5);
    expect(decodeFeastValue(value(7, WireType.Varint, (w) => w.bool(true)))).toBe(true);
    expect(decodeFeastValue(value(2, WireType.LengthDelimited, (w) => w.string('2.5')))).toBe('2.5');
  });

  it('reads an empty Value or null_val as no value, and list or bytes kinds as unsupported', () => {
    expect(decodeFeastValue(new Uint8Array(0))).toBeNull();
    expect(decodeFeastValue(value(19, WireType.Varint, (w) => w.int32(0)))).toBeNull();
    expect(decodeFeastValue(value(15, WireType.LengthDelimited, (w) => w.bytes(new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 0]))))).toBe(UNSUPPORTED);
    expect(decodeFeastValue(value(1, WireType.LengthDelimited, (w) => w.bytes(bytes('x'))))).toBe(UNSUPPORTED);
  });

  it('rejects malformed bytes (so the field counts as unparsable)', () => {
    expect(() => decodeFeastValue(new Uint8Array([0x2a, 0x01]))).toThrow(); // double field, 1 byte instead of 8
  });

  it('round-trips what the loader writes', () => {
    expect(decodeFeastValue(encodeFeastValue('FP64', 2.25))).toBe(2.25);
    expect(decodeFeastValue(encodeFeastValue('FP32', 0.5))).toBe(0.5);
    expect(decodeFeastValue(encodeFeastValue('INT64', 5n))).toBe(5n);
    expect(decodeFeastValue(encodeFeastValue('INT32', -3))).toBe(-3);
    expect(decodeTimestampMs(encodeTimestamp(1_700_000_000_250))).toBe(1_700_000_000_250);
  });

  it('decodes a google.protobuf.Timestamp to milliseconds', () => {
    const ts = new BinaryWriter().tag(1, WireType.Varint).int64(1_700_000_000).tag(2, WireType.Varint).int32(500_000_000).finish();
    expect(decodeTimestampMs(ts)).toBe(1_700_000_000_500);
  });
});
