/* Pausing a VM: vm_pause raises a flag and kicks every vCPU; each vCPU thread
 * then waits in its exit loop (vm_pause_point) until vm_unpause or vm_stop.
 * Holding exits (start-up): the vCPUs run, their exits wait (vm_exit_point).
 * A vCPU blocked in the layer above (SCHEDOP_block) stops when it next
 * returns to KVM_RUN: its kick makes that entry exit at once. */
#include "kvm/vm.h"

void vm_pause(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    atomic_store(&vm->paused, true);
    pthread_mutex_unlock(&vm->pause_lock);
    for (int i = 0; i < vm->nr_vcpus; i++)
        vcpu_kick(&vm->vcpus[i]);
}

void vm_unpause(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    atomic_store(&vm->paused, false);
    pthread_cond_broadcast(&vm->pause_cond);
    pthread_mutex_unlock(&vm->pause_lock);
}

bool vm_is_paused(struct vm *vm)
{
    return atomic_load(&vm->paused);
}

void vm_hold_exits(struct vm *vm)
{
    atomic_store(&vm->exits_held, true);
}

void vm_release_exits(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    atomic_store(&vm->exits_held, false);
    pthread_cond_broadcast(&vm->pause_cond);
    pthread_mutex_unlock(&vm->pause_lock);
}

void vm_exit_point(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    while (atomic_load(&vm->exits_held) && !atomic_load(&vm->stopping))
        pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
    pthread_mutex_unlock(&vm->pause_lock);
}

void vm_pause_point(struct vm *vm)
{
    if (!atomic_load(&vm->paused))
        return;
    pthread_mutex_lock(&vm->pause_lock);
    while (atomic_load(&vm->paused) && !atomic_load(&vm->stopping)) {
        /* vm_stop does not signal the condition: look at it now and then. */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 100 * 1000000;
        if (t.tv_nsec >= 1000000000) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &t);
    }
    pthread_mutex_unlock(&vm->pause_lock);
}
