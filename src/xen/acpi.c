/* ACPI tables for a PVH domain. Layouts follow the ACPI 6 specification; the
 * contents follow what Xen's toolstack gives PVH guests: hardware-reduced,
 * no legacy devices, local APICs only. */
#include "xen/acpi.h"
#include <string.h>

struct __attribute__((packed)) sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem_id[6], oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
};

struct __attribute__((packed)) rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address, length;
    uint64_t xsdt_address;
    uint8_t extended_checksum, reserved[3];
};

struct __attribute__((packed)) madt_lapic {
    uint8_t type, length, processor_id, apic_id;
    uint32_t flags;
};

#define FADT_LENGTH 276           /* ACPI 6.0 FADT */
#define FADT_FLAGS 112
#define FADT_BOOT_ARCH 109
#define FADT_MINOR_REV 131
#define FADT_X_DSDT 140
#define FADT_DSDT 40
#define FADT_HYPERVISOR_ID 268
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED (1u << 20)
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_CMOS_RTC (1u << 5)
#define MADT_LAPIC_ADDR 0xfee00000u

static uint8_t checksum(const void *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((const uint8_t *)p)[i];
    return (uint8_t)-s;
}

static void header(struct sdt_header *h, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(h->signature, sig, 4);
    h->length = len;
    h->revision = rev;
    memcpy(h->oem_id, ACPI_OEM_ID, 6);
    memcpy(h->oem_table_id, "XENKVMPV", 8);
    h->oem_revision = 1;
    memcpy(h->creator_id, "XKVM", 4);
    h->creator_revision = 1;
}

/* A Generic Address Structure naming one byte in I/O space. */
static void io_register(uint8_t *gas, uint16_t port)
{
    uint64_t addr = port;
    gas[0] = 1;     /* system I/O */
    gas[1] = 8;     /* bit width */
    gas[2] = 0;     /* bit offset */
    gas[3] = 1;     /* byte access */
    memcpy(gas + 4, &addr, 8);
}

static void seal(struct sdt_header *h)
{
    h->checksum = 0;
    h->checksum = checksum(h, h->length);
}

uint64_t acpi_build(uint8_t *buf, size_t size, uint64_t gpa, unsigned nr_vcpus)
{
    /* Layout: RSDP at 0, then each table 16-byte aligned. */
    size_t off_xsdt = 64, off_fadt = off_xsdt + 64, off_dsdt = off_fadt + 288,
           off_madt = off_dsdt + 64;
    size_t madt_len = sizeof(struct sdt_header) + 8 + nr_vcpus * sizeof(struct madt_lapic);
    if (nr_vcpus == 0 || nr_vcpus > 255 || off_madt + madt_len > size)
        return 0;
    memset(buf, 0, off_madt + madt_len);

    /* The DSDT holds only Name(_S5, Package() {5, 5, 0, 0}): the sleep type
     * that the sleep control register takes for soft-off. */
    static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
                                  0x0a, ACPI_SLP_TYP_S5, 0x0a, ACPI_SLP_TYP_S5, 0x00, 0x00 };
    struct sdt_header *dsdt = (void *)(buf + off_dsdt);
    header(dsdt, "DSDT", sizeof(*dsdt) + sizeof(s5), 2);
    memcpy(buf + off_dsdt + sizeof(*dsdt), s5, sizeof(s5));
    seal(dsdt);

    struct sdt_header *fadt = (void *)(buf + off_fadt);
    header(fadt, "FACP", FADT_LENGTH, 6);
    uint8_t *f = (uint8_t *)fadt;
    uint32_t dsdt32 = (uint32_t)(gpa + off_dsdt);
    uint64_t dsdt64 = gpa + off_dsdt;
    memcpy(f + FADT_DSDT, &dsdt32, 4);
    memcpy(f + FADT_X_DSDT, &dsdt64, 8);
    uint32_t flags = FADT_HW_REDUCED | FADT_RESET_REG_SUP;
    memcpy(f + FADT_FLAGS, &flags, 4);
    io_register(f + FADT_SLEEP_CONTROL, ACPI_SLEEP_CTL_PORT);
    io_register(f + FADT_SLEEP_STATUS, ACPI_SLEEP_STS_PORT);
    io_register(f + FADT_RESET_REG, ACPI_RESET_PORT);
    f[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
    uint16_t arch = BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS_RTC;
    memcpy(f + FADT_BOOT_ARCH, &arch, 2);
    f[FADT_MINOR_REV] = 0;
    memcpy(f + FADT_HYPERVISOR_ID, "XenVMM\0\0", 8);
    seal(fadt);

    struct sdt_header *madt = (void *)(buf + off_madt);
    header(madt, "APIC", madt_len, 4);
    uint32_t lapic_addr = MADT_LAPIC_ADDR, madt_flags = 0;   /* no 8259 PICs */
    memcpy(buf + off_madt + sizeof(*madt), &lapic_addr, 4);
    memcpy(buf + off_madt + sizeof(*madt) + 4, &madt_flags, 4);
    struct madt_lapic *l = (void *)(buf + off_madt + sizeof(*madt) + 8);
    for (unsigned i = 0; i < nr_vcpus; i++)
        l[i] = (struct madt_lapic){ .type = 0, .length = sizeof(*l), .processor_id = i,
                                    .apic_id = i, .flags = 1 };
    seal(madt);

    struct sdt_header *xsdt = (void *)(buf + off_xsdt);
    header(xsdt, "XSDT", sizeof(*xsdt) + 2 * 8, 1);
    uint64_t entries[2] = { gpa + off_fadt, gpa + off_madt };
    memcpy(buf + off_xsdt + sizeof(*xsdt), entries, sizeof(entries));
    seal(xsdt);

    struct rsdp *r = (void *)buf;
    memcpy(r->signature, "RSD PTR ", 8);
    memcpy(r->oem_id, ACPI_OEM_ID, 6);
    r->revision = 2;
    r->length = sizeof(*r);
    r->xsdt_address = gpa + off_xsdt;
    r->checksum = checksum(r, 20);
    r->extended_checksum = checksum(r, sizeof(*r));
    return gpa;
}
