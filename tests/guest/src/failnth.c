// SPDX-License-Identifier: GPL-2.0
/*
 * failnth - run a program whose N-th fault-injection point fails
 * (/proc/self/fail-nth), and tell whether it did.
 *
 * Usage: failnth N PROGRAM [ARGS...]
 *
 * The program runs in a child that writes N to its own fail-nth before it
 * execs the program (a fork resets fail-nth, an exec keeps it). Once the
 * child has exited, and before it is reaped, its fail-nth is read: 0 when
 * the N-th point failed, else how many of the N were left. Prints
 * "left=L" on stderr (after the program's own output) and exits with the
 * program's exit status (128 + the signal when it was killed). Which
 * points count is set in debugfs (failslab, fail_page_alloc: with the
 * stack-trace filter, the allocations made with a module's code on the
 * stack).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_nth(const char *path, const char *n)
{
	int fd = open(path, O_WRONLY);
	ssize_t len = (ssize_t)strlen(n);

	if (fd < 0 || write(fd, n, (size_t)len) != len) {
		perror(path);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	char path[64], buf[32];
	siginfo_t si;
	pid_t pid;
	ssize_t r;
	int fd, st;

	if (argc < 3) {
		fprintf(stderr, "usage: failnth N PROGRAM [ARGS...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (!pid) {
		if (write_nth("/proc/self/fail-nth", argv[1]))
			_exit(2);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	/* Exited, not reaped: its /proc entry is still there. */
	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) {
		if (errno != EINTR) {
			perror("waitid");
			return 2;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/fail-nth", (int)pid);
	fd = open(path, O_RDONLY);
	r = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (r <= 0) {
		perror(path);
		return 2;
	}
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	close(fd);
	if (waitpid(pid, &st, 0) < 0) {
		perror("waitpid");
		return 2;
	}
	fprintf(stderr, "left=%s\n", buf);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
