/*
 * libsrtp 2 harness for pigeon's SRTP interop test and benchmark.
 * Build: cc -O2 srtp_harness.c $(pkg-config --cflags --libs libsrtp2)
 *
 *   srtp_harness PROFILE KEYSALT_HEX protect|unprotect
 *       reads lines "rtp HEX" / "rtcp HEX" on stdin, writes "ok HEX" or "err CODE" per line.
 *   srtp_harness bench PROFILE KEYSALT_HEX protect|unprotect COUNT PAYLOAD_LEN
 *       loops COUNT packets of PAYLOAD_LEN payload bytes, prints "PROFILE OP PACKETS_PER_SEC".
 * PROFILE: cm80 | cm32 | gcm128 | gcm256. KEYSALT_HEX: master key followed by master salt.
 */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PACKET 4096

static int set_profile(srtp_policy_t *policy, const char *name)
{
    if (strcmp(name, "cm80") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
    } else if (strcmp(name, "cm32") == 0) {
        /* RFC 5764 4.1.2: SRTCP keeps the 80-bit tag. */
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
    } else if (strcmp(name, "gcm128") == 0) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);
    } else if (strcmp(name, "gcm256") == 0) {
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtcp);
    } else {
        return -1;
    }
    return 0;
}

static int unhex(const char *hex, unsigned char *out, int max)
{
    int n = 0;
    while (hex[0] && hex[1] && hex[0] != '\n') {
        if (n == max) return -1;
        unsigned int byte;
        if (sscanf(hex, "%2x", &byte) != 1) return -1;
        out[n++] = (unsigned char)byte;
        hex += 2;
    }
    return n;
}

static srtp_t make_session(const char *profile, const char *keyhex, int outbound)
{
    static unsigned char key[64];
    srtp_policy_t policy;
    srtp_t session;
    memset(&policy, 0, sizeof policy);
    if (set_profile(&policy, profile) != 0) {
        fprintf(stderr, "unknown profile %s\n", profile);
        exit(2);
    }
    if (unhex(keyhex, key, sizeof key) <= 0) {
        fprintf(stderr, "bad key hex\n");
        exit(2);
    }
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = key;
    policy.window_size = 128;
    policy.allow_repeat_tx = 0;
    policy.next = NULL;
    srtp_err_status_t status = srtp_create(&session, &policy);
    if (status != srtp_err_status_ok) {
        fprintf(stderr, "srtp_create failed: %d\n", status);
        exit(2);
    }
    return session;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill_rtp(unsigned char *p, unsigned int index, int payload_len)
{
    p[0] = 0x80;
    p[1] = 0x60;
    p[2] = (index >> 8) & 0xff;
    p[3] = index & 0xff;
    memset(p + 4, 0, 4);
    p[8] = 0x12; p[9] = 0x34; p[10] = 0x56; p[11] = 0x78;
    memset(p + 12, 0xab, payload_len);
}

/* Unprotect is timed over batches protected beforehand (outside the clock), as each packet
 * must carry a fresh index to pass the replay check. */
#define BATCH 1024

static int bench(const char *profile, const char *keyhex, const char *op, long count, int payload_len)
{
    srtp_t tx = make_session(profile, keyhex, 1);
    srtp_t rx = make_session(profile, keyhex, 0);
    static unsigned char batch[BATCH][MAX_PACKET];
    static int lens[BATCH];
    unsigned int index = 0;
    double elapsed = 0;
    long done = 0;
    if (strcmp(op, "protect") == 0) {
        unsigned char template_packet[MAX_PACKET];
        unsigned char buf[MAX_PACKET];
        fill_rtp(template_packet, 0, payload_len);
        double start = now_seconds();
        for (done = 0; done < count; done++) {
            int len = 12 + payload_len;
            memcpy(buf, template_packet, len);
            buf[2] = (index >> 8) & 0xff;
            buf[3] = index & 0xff;
            index++;
            if (srtp_protect(tx, buf, &len) != srtp_err_status_ok) return 1;
        }
        elapsed = now_seconds() - start;
    } else {
        while (done < count) {
            for (int i = 0; i < BATCH; i++) {
                fill_rtp(batch[i], index++, payload_len);
                lens[i] = 12 + payload_len;
                if (srtp_protect(tx, batch[i], &lens[i]) != srtp_err_status_ok) return 1;
            }
            double start = now_seconds();
            for (int i = 0; i < BATCH; i++) {
                if (srtp_unprotect(rx, batch[i], &lens[i]) != srtp_err_status_ok) return 1;
            }
            elapsed += now_seconds() - start;
            done += BATCH;
        }
    }
    printf("%s %s %.0f\n", profile, op, done / elapsed);
    return 0;
}

int main(int argc, char **argv)
{
    if (srtp_init() != srtp_err_status_ok) return 2;
    if (argc == 7 && strcmp(argv[1], "bench") == 0) {
        return bench(argv[2], argv[3], argv[4], atol(argv[5]), atoi(argv[6]));
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s PROFILE KEYSALT_HEX protect|unprotect\n", argv[0]);
        return 2;
    }
    int protect = strcmp(argv[3], "protect") == 0;
    srtp_t session = make_session(argv[1], argv[2], protect);
    static char line[2 * MAX_PACKET + 16];
    unsigned char buf[MAX_PACKET + SRTP_MAX_TRAILER_LEN + 16];
    while (fgets(line, sizeof line, stdin)) {
        int rtcp = strncmp(line, "rtcp ", 5) == 0;
        if (!rtcp && strncmp(line, "rtp ", 4) != 0) return 2;
        int len = unhex(line + (rtcp ? 5 : 4), buf, MAX_PACKET);
        if (len < 0) return 2;
        srtp_err_status_t status;
        if (protect) {
            status = rtcp ? srtp_protect_rtcp(session, buf, &len) : srtp_protect(session, buf, &len);
        } else {
            status = rtcp ? srtp_unprotect_rtcp(session, buf, &len) : srtp_unprotect(session, buf, &len);
        }
        if (status != srtp_err_status_ok) {
            printf("err %d\n", status);
        } else {
            printf("ok ");
            for (int i = 0; i < len; i++) printf("%02x", buf[i]);
            printf("\n");
        }
        fflush(stdout);
    }
    srtp_dealloc(session);
    return 0;
}
