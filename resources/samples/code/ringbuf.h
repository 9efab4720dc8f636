/*
 * ringbuf.h - a fixed-size ring buffer for sensor samples.
 *
 * Copyright 2026 Greenhouse Monitor contributors.
 * SPDX-License-Identifier: MIT
 */
#ifndef RINGBUF_H
#define RINGBUF_H

#include <stddef.h>
#include <stdint.h>

#define RINGBUF_CAPACITY 256

/* One reading from a temperature or humidity sensor. */
struct sample {
    uint32_t timestamp;
    int16_t value;
    uint8_t sensor_id;
};

typedef struct ringbuf {
    struct sample items[RINGBUF_CAPACITY];
    size_t head;
    size_t count;
} ringbuf_t;

void ringbuf_init(ringbuf_t *rb);
int ringbuf_push(ringbuf_t *rb, struct sample s);
int ringbuf_pop(ringbuf_t *rb, struct sample *out);
size_t ringbuf_count(const ringbuf_t *rb);

#endif /* RINGBUF_H */
