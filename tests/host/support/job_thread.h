/*
 * tests/host/support/job_thread.h — a thread that runs jobs on request, one
 * at a time (run() waits for each), and stays alive until destroyed: on
 * the host it keeps the CPU slot it was dealt, so a test can put work "on
 * another CPU" and keep that CPU busy or idle as it needs.
 */
#ifndef KMM_TESTS_SUPPORT_JOB_THREAD_H
#define KMM_TESTS_SUPPORT_JOB_THREAD_H

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace kmm_test {

class JobThread {
public:
	JobThread() : thread_([this] { loop(); }) {}
	~JobThread()
	{
		run([this] { stop_ = true; });
		thread_.join();
	}
	JobThread(const JobThread &) = delete;
	JobThread &operator=(const JobThread &) = delete;

	void run(std::function<void()> job)
	{
		std::unique_lock<std::mutex> g(lock_);
		job_ = std::move(job);
		cv_.notify_all();
		cv_.wait(g, [this] { return !job_; });
	}

private:
	void loop()
	{
		std::unique_lock<std::mutex> g(lock_);
		while (!stop_) {
			cv_.wait(g, [this] { return static_cast<bool>(job_); });
			job_();
			job_ = nullptr;
			cv_.notify_all();
		}
	}
	std::mutex lock_;
	std::condition_variable cv_;
	std::function<void()> job_;
	bool stop_ = false;
	std::thread thread_; /* last: started once the rest is built */
};

} // namespace kmm_test

#endif
