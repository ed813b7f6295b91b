/* Xen's public headers (libxen-dev). They expect <stdint.h> to come first. */
#pragma once
#include <stdint.h>
#include <xen/xen.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/memory.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/io/console.h>
#include <xen/errno.h>
