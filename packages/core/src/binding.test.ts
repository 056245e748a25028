import { describe, expect, it } from 'vitest';
import { tappedBinding, type BatchSink, type KernelBinding, type RawKernelStats } from './binding.js';
import type { LostNotice } from './events.js';
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

  it('a SessionTap also gets each counter reading the consumer takes and each loss notice before the consumer', () => {
    const mock = createMockBinding();
    let innerSink: BatchSink | undefined;
    const inner: KernelBinding = { ...mock, open: (options, sink) => ((innerSink = sink), mock.open(options, sink)) };
    const order: string[] = [];
    const binding = tappedBinding(inner, {
      batch: (batch) => order.push(`tap batch ${batch[0]}`),
      stats: (stats: RawKernelStats) => order.push(`tap stats ${stats.bindingDropped}`),
      loss: (notice: LostNotice) => order.push(`tap loss ${notice.count}`),
    });
    const session = binding.open(parseSessionOptions({}), {
      onBatch: (batch) => order.push(`consumer batch ${batch[0]}`),
      onError: () => {},
      onLoss: (notice) => order.push(`consumer loss ${notice.count}`),
    });
    mock.current!.deliver(Uint8Array.of(1));
    mock.current!.setStats({ bindingDropped: 4 });
    order.push(`consumer stats ${session.stats().bindingDropped}`);
    innerSink!.onLoss!({ kind: 'lost', cause: 'export', count: 3, byKind: {} });
    expect(order).toEqual(['tap batch 1', 'consumer batch 1', 'tap stats 4', 'consumer stats 4', 'tap loss 3', 'consumer loss 3']);
  });
});
