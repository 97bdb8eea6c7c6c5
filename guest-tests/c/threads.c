/*
 * pthreads on the kernel model: clone, futex wait/wake (mutex, condition variable, join),
 * a timed condition wait that expires in virtual time, thread exit codes via join.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define THREADS 3
#define ROUNDS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int counter, arrived;

static void *worker(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		if (i % 50 == 0)
			sched_yield();
	}
	pthread_mutex_lock(&lock);
	arrived++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return (void *)(id * 10);
}

int main(void)
{
	pthread_t th[THREADS];
	struct timespec t0, t1, dl;
	long sum = 0;
	int r;

	for (long i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(i + 1));
	pthread_mutex_lock(&lock);
	while (arrived < THREADS)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < THREADS; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		sum += (long)ret;
	}
	printf("counter %d joined %ld\n", counter, sum);

	/* a timed wait nobody signals: ETIMEDOUT after 3 ms of virtual time */
	clock_gettime(CLOCK_REALTIME, &t0);
	dl = t0;
	dl.tv_nsec += 3000000;
	if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
	pthread_mutex_lock(&lock);
	r = pthread_cond_timedwait(&cond, &lock, &dl);
	pthread_mutex_unlock(&lock);
	clock_gettime(CLOCK_REALTIME, &t1);
	long long waited = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("timedwait %s after %s3 ms\n", r == ETIMEDOUT ? "ETIMEDOUT" : "other", waited >= 3000000 ? ">= " : "< ");
	return counter == THREADS * ROUNDS && sum == 60 && r == ETIMEDOUT ? 0 : 1;
}
