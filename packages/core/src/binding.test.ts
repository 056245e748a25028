import { describe, expect, it } from 'vitest';
import { tappedBinding } from './binding.js';
import { parseSessionOptions } from './options.js';
import { createMockBinding } from './testing/index.js';

describe('tappedBinding', () => {
  it('taps every batch the consumer gets, pushed or pulled, before the consumer sees it; empty reads are not tapped', () => {
    const inner = createMockBinding();
    const order: string[] = [];
    const binding = tappedBinding(inner, (batch) => order.push(`tap ${batch[0]}`));
    const session = binding.open(parseSessionOptions({}), {
      onBatch: (batch) => order.push(`consumer ${batch[0]}`),
      onError: () => {},
      onReadable: () => {},
      onCountersChanged: () => {},
      onEnd: () => {},
    });
    inner.current!.deliver(Uint8Array.of(1));
    inner.current!.queue(Uint8Array.of(2));
    const pulled = session.read();
    order.push(`consumer ${pulled[0]}`);
    session.read();
    expect(order).toEqual(['tap 1', 'consumer 1', 'tap 2', 'consumer 2']);
    expect(binding.name).toBe(inner.name);
    session.close();
    expect(inner.current!.closed).toBe(true);
  });
});
