/*
 * The pod sandbox ("pause") process of the test cluster's real node: our own, because the
 * upstream pause image cannot be pulled here. It holds the pod's namespaces, reaps the
 * children it inherits (it is PID 1 when a pod shares its PID namespace) and exits on
 * SIGINT or SIGTERM. scripts/testcluster builds it with `gcc -static` and packs it into an
 * image (tests/cluster/node/ociimage.py) under the name containerd's CRI config names.
 */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) {
    (void)sig;
    _exit(0);
}

static void on_child(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction term = {.sa_handler = on_term};
    struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
    if (sigaction(SIGINT, &term, NULL) != 0 || sigaction(SIGTERM, &term, NULL) != 0 ||
        sigaction(SIGCHLD, &child, NULL) != 0) {
        return 1;
    }
    for (;;) {
        pause();
    }
}
