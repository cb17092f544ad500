/** Bulkhead cases: the success path with free slots (the common case). */
import { bulkhead } from '@bulwark/bulkhead';
import { bulkhead as cockatielBulkhead } from 'cockatiel';

const work = async (): Promise<number> => 1;

export const cases: Record<string, () => () => Promise<unknown>> = {
  'await (floor)': () => () => work(),
  'bulwark bulkhead, slot free': () => {
    const p = bulkhead({ maxConcurrent: 10, maxQueue: 100 });
    return () => p.execute(work);
  },
  'cockatiel bulkhead, slot free': () => {
    const p = cockatielBulkhead(10, 100);
    return () => p.execute(work);
  },
};
