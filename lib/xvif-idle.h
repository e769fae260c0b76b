/*
 * Copyright (c) 2026 The xvif authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#ifndef XVIF_IDLE_H
#define XVIF_IDLE_H 1

/* When a data-path thread that serves type=xvif queues sleeps.
 *
 * Both xvif classes are polled by OVS's PMD threads, never by the main
 * thread (whose loop costs far more per iteration than a packet does).  A
 * PMD thread busy-polls an xvif-pmd queue forever.  A PMD thread whose
 * queues are all type=xvif queues polls them while they have work and,
 * after one full round over them that found none, blocks in epoll_wait()
 * on their event channels, each guest having been asked for a notification:
 * the NAPI pattern of Linux's netback, in a userspace thread.  See
 * xvif-idle.c. */

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct xvif_queue;

/* Per-rxq state, owned by the thread that polls the rxq. */
struct xvif_idle_rxq {
    uint64_t round;             /* Round in which it was last polled. */
};

bool xvif_idle_before_poll(struct xvif_idle_rxq *, struct xvif_queue *,
                           bool event_driven);
void xvif_idle_after_poll(struct xvif_queue *, bool work);

bool xvif_idle_allowed(void);
bool xvif_idle_run(void);
void xvif_idle_format(struct ds *, bool counters);

#endif /* xvif-idle.h */
