/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * A cancel-safe FIFO of pending IRPs. Not IoCsq: Wine's IoCsq is a stub
 * that crashes winedevice, and the pattern is short. The queue is guarded by
 * a lock the owner supplies, so the owner can pair "take an IRP" with "take
 * the data to complete it with" atomically.
 */
#ifndef KMON_IRPQ_H
#define KMON_IRPQ_H

#include <ntifs.h>

struct kmon_irpq {
	PKSPIN_LOCK lock;
	LIST_ENTRY irps;
};

void kmon_irpq_init(struct kmon_irpq *q, PKSPIN_LOCK lock);

/* Queues irp, marked pending: STATUS_PENDING, or STATUS_CANCELLED if it was already cancelled (caller completes). */
NTSTATUS kmon_irpq_insert(struct kmon_irpq *q, PIRP irp);

/* Caller holds q->lock. Takes the oldest IRP that is not being cancelled, or NULL. */
PIRP kmon_irpq_pop_locked(struct kmon_irpq *q);

/* Completes with STATUS_CANCELLED every queued IRP of file (NULL: all). */
void kmon_irpq_cancel_file(struct kmon_irpq *q, PFILE_OBJECT file);

#endif /* KMON_IRPQ_H */
