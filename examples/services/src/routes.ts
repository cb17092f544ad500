import { cleanString } from '@bulwark/sanitize';
import { z } from 'zod';
import type { Service } from './service.js';

/** What POST /notes accepts (in v2's words: v1 callers' `name` is renamed before validation). */
export const noteSchema = { body: z.strictObject({ title: z.string().min(1).max(200) }) };

/** The routes' work, framework-free: each framework file maps a request to one of these. */
export async function quoteRoute(service: Service, signal: AbortSignal): Promise<{ status: number; body: unknown }> {
  try {
    return { status: 200, body: await service.quote(signal) };
  } catch (error) {
    return { status: 502, body: { error: 'quote upstream unavailable', reason: (error as Error).message } };
  }
}

let nextNote = 1;

/** Creates a note from a validated v2 body: the title cleaned (Unicode normalised, controls and bidi removed). */
export function createNote(body: { title: string }): { status: number; body: unknown } {
  return { status: 201, body: { id: nextNote++, title: cleanString(body.title) } };
}
