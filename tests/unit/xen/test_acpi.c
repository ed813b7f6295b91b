/* ACPI tables for PVH domains: structure, checksums, what Linux reads. */
#include "unit.h"
#include "xen/acpi.h"
#include <stdlib.h>

#define GPA 0xfeff3000ull

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return s;
}

static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The table at guest address a, inside buf. */
static const uint8_t *at(const uint8_t *buf, uint64_t a)
{
    return buf + (a - GPA);
}

TEST(acpi_rsdp_points_to_a_valid_xsdt)
{
    static uint8_t buf[8192];
    CHECK_EQ(acpi_build(buf, sizeof(buf), GPA, 2), GPA);
    CHECK(!memcmp(buf, "RSD PTR ", 8));
    CHECK_EQ(sum(buf, 20), 0);
    CHECK_EQ(buf[15], 2);                       /* revision: ACPI 2+ */
    CHECK_EQ(le32(buf + 20), 36);
    CHECK_EQ(sum(buf, 36), 0);
    const uint8_t *xsdt = at(buf, le64(buf + 24));
    CHECK(!memcmp(xsdt, "XSDT", 4));
    CHECK_EQ(le32(xsdt + 4), 36 + 16);
    CHECK_EQ(sum(xsdt, le32(xsdt + 4)), 0);
}

TEST(acpi_madt_lists_one_enabled_lapic_per_vcpu_and_no_ioapic)
{
    static uint8_t buf[8192];
    CHECK(acpi_build(buf, sizeof(buf), GPA, 4));
    const uint8_t *xsdt = at(buf, le64(buf + 24));
    const uint8_t *madt = at(buf, le64(xsdt + 36 + 8));
    CHECK(!memcmp(madt, "APIC", 4));
    uint32_t len = le32(madt + 4);
    CHECK_EQ(sum(madt, len), 0);
    CHECK_EQ(le32(madt + 36), 0xfee00000u);
    CHECK_EQ(le32(madt + 40), 0);               /* no PC-AT 8259s */
    unsigned lapics = 0;
    for (uint32_t off = 44; off < len; off += madt[off + 1]) {
        CHECK(madt[off + 1] >= 2);
        if (madt[off + 1] < 2)
            break;
        CHECK_EQ(madt[off], 0);                 /* processor local APIC only */
        CHECK_EQ(madt[off + 3], lapics);        /* APIC id = vCPU id */
        CHECK_EQ(le32(madt + off + 4) & 1, 1);  /* enabled */
        lapics++;
    }
    CHECK_EQ(lapics, 4);
}

TEST(acpi_fadt_is_hardware_reduced_with_sleep_and_reset_registers)
{
    static uint8_t buf[8192];
    CHECK(acpi_build(buf, sizeof(buf), GPA, 1));
    const uint8_t *xsdt = at(buf, le64(buf + 24));
    const uint8_t *fadt = at(buf, le64(xsdt + 36));
    CHECK(!memcmp(fadt, "FACP", 4));
    CHECK_EQ(le32(fadt + 4), 276);
    CHECK_EQ(sum(fadt, 276), 0);
    CHECK(le32(fadt + 112) & (1u << 20));       /* HW_REDUCED_ACPI */
    CHECK(le32(fadt + 112) & (1u << 10));       /* RESET_REG_SUP */
    CHECK_EQ(fadt[244], 1);                     /* sleep control: system I/O */
    CHECK_EQ(le64(fadt + 248), ACPI_SLEEP_CTL_PORT);
    CHECK_EQ(le64(fadt + 120), ACPI_RESET_PORT);
    CHECK_EQ(fadt[128], ACPI_RESET_VALUE);
    const uint8_t *dsdt = at(buf, le64(fadt + 140));
    CHECK_EQ(le32(fadt + 40), (uint32_t)le64(fadt + 140));
    CHECK(!memcmp(dsdt, "DSDT", 4));
    CHECK_EQ(sum(dsdt, le32(dsdt + 4)), 0);
    /* Name(_S5, Package(4) {5, 5, 0, 0}) */
    CHECK(!memcmp(dsdt + 36, "\x08_S5_\x12", 6));
    CHECK_EQ(dsdt[36 + 9], ACPI_SLP_TYP_S5);
}

TEST(acpi_refuses_a_buffer_too_small_and_bad_vcpu_counts)
{
    static uint8_t buf[8192];
    CHECK_EQ(acpi_build(buf, 200, GPA, 1), 0);
    CHECK_EQ(acpi_build(buf, sizeof(buf), GPA, 0), 0);
    CHECK_EQ(acpi_build(buf, sizeof(buf), GPA, 256), 0);
    CHECK_EQ(acpi_build(buf, sizeof(buf), GPA, 255), GPA);
}
