/*
 * The machine's FMA peak: every thread runs independent fused multiply-adds on the widest vectors the
 * compiler targets (-march=native: AVX-512 where the CPU has it, else AVX2 halves), with enough
 * accumulators to hide the FMA latency. Prints GFLOP/s for `threads` threads (best of `rounds`).
 * Built and run by bench/denoise-speed.ts:  cc -O2 -march=native -ffp-contract=fast -pthread peak.c
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef float vec __attribute__((vector_size(64)));
enum { ACCUMULATORS = 12, LANES = sizeof(vec) / sizeof(float) };

static long iterations = 20000000;
static volatile float sink;

#define STEP(x) x = x * m + a
static void *run(void *arg) {
  (void)arg;
  vec m, a;
  for (int l = 0; l < LANES; l++) {
    m[l] = 0.999999f;
    a[l] = 1e-7f;
  }
  vec c0 = a, c1 = a * 2, c2 = a * 3, c3 = a * 4, c4 = a * 5, c5 = a * 6;
  vec c6 = a * 7, c7 = a * 8, c8 = a * 9, c9 = a * 10, c10 = a * 11, c11 = a * 12;
  for (long n = 0; n < iterations; n++) {
    STEP(c0); STEP(c1); STEP(c2); STEP(c3); STEP(c4); STEP(c5);
    STEP(c6); STEP(c7); STEP(c8); STEP(c9); STEP(c10); STEP(c11);
  }
  vec total = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  float sum = 0;
  for (int l = 0; l < LANES; l++) sum += total[l];
  sink = sum;
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  if (threads < 1 || threads > 256 || rounds < 1) return 2;
  pthread_t ids[256];
  double best = 0;
  for (int r = 0; r < rounds; r++) {
    double started = now();
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, run, NULL);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    double seconds = now() - started;
    double flop = 2.0 * ACCUMULATORS * LANES * (double)iterations * threads;
    if (flop / seconds / 1e9 > best) best = flop / seconds / 1e9;
  }
  printf("%.1f\n", best);
  return 0;
}
