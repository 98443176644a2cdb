// The header (first line) of a recording: what was recorded, where, with which tools and probes.
import { z } from 'zod';

export const FIXTURE_FORMAT = 'kdiag-recording';
export const FIXTURE_VERSION = '1.0';
export const FIXTURE_MAJOR = 1;

export const fixtureHeaderSchema = z.object({
  format: z.literal(FIXTURE_FORMAT),
  version: z.string().regex(/^\d+\.\d+$/, 'version must be MAJOR.MINOR'),
  recordedAt: z.string(),
  kdiag: z.string(),
  host: z.object({
    hostname: z.string(),
    kernel: z.string(),
  }),
  tools: z.record(z.string(), z.string()).default({}),
  probes: z.array(z.object({ id: z.string(), sha256: z.string() })).default([]),
  sources: z.array(z.object({ id: z.string(), argv: z.array(z.string()) })).default([]),
  options: z.record(z.string(), z.unknown()).default({}),
  redacted: z.boolean().default(false),
  notes: z.string().optional(),
});

export type FixtureHeader = z.infer<typeof fixtureHeaderSchema>;

export const rawRecordSchema = z.object({
  t: z.number().finite().nonnegative(),
  src: z.string().min(1).max(200),
  line: z.string(),
  k: z.enum(['begin', 'end', 'err']).optional(),
});
