/* Monotonic wall clock in seconds. */
#ifndef IC_TIMER_H
#define IC_TIMER_H
double ic_now(void);
#endif
