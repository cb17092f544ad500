import { cleanString } from '@bulwark/sanitize';
import type { Service } from './service.js';

/** The routes' work, framework-free: each framework file maps a request to one of these. */
export async function quoteRoute(service: Service, signal: AbortSignal): Promise<{ status: number; body: unknown }> {
  try {
    return { status: 200, body: await service.quote(signal) };
  } catch (error) {
    return { status: 502, body: { error: 'quote upstream unavailable', reason: (error as Error).message } };
  }
}

let nextNote = 1;

/** Creates a note from a v2 body (`{ title }`): the title cleaned (Unicode normalised, controls and bidi removed). */
export function createNote(body: unknown): { status: number; body: unknown } {
  const title = (body as { title?: unknown } | undefined)?.title;
  if (typeof title !== 'string' || title.length === 0) return { status: 400, body: { error: 'title is required' } };
  return { status: 201, body: { id: nextNote++, title: cleanString(title) } };
}
