package io.keymesh.authority;

import io.keymesh.runtime.EtcdOptions;
import io.keymesh.runtime.YamlConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * The YAML configuration shared by {@code keymesh-authority} and the {@code keymesh} CLI
 * (typically {@code /etc/keymesh/authority.yaml}). Unknown keys are errors, so a typo never
 * silently falls back to a default. Flags override the file.
 *
 * @param trustedKeys base64 public keys of other authority keys to accept (an authority key rotation)
 * @param maxKeyAge   like {@code 30d}: rotate WireGuard keys older than this automatically (absent: never)
 */
public record ConfigFile(
        List<String> endpoints,
        String prefix,
        String mesh,
        String signingKey,
        List<String> trustedKeys,
        List<String> overlayCidrs,
        Integer listenPort,
        Integer keepaliveSeconds,
        Integer leaseTtlSeconds,
        String candidate,
        String http,
        String maxKeyAge,
        String etcdCaFile,
        String etcdCertFile,
        String etcdKeyFile,
        String etcdUser,
        String etcdPasswordFile,
        Integer watchProgressIntervalSeconds,
        Integer watchAnswerTimeoutSeconds,
        String auditRetention,
        Integer auditRetentionCount,
        String requestRetention,
        Integer requestRetentionCount,
        String enrollRetention,
        Integer enrollRetentionCount) implements EtcdOptions.FileSettings, io.keymesh.runtime.WatchOptions.FileSettings,
        io.keymesh.authority.retention.RetentionOptions.FileSettings {

    public static final ConfigFile EMPTY = new ConfigFile(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
            null, null, null, null, null, null, null, null);

    public static ConfigFile load(Path file) {
        return YamlConfig.load(file, ConfigFile.class, EMPTY);
    }
}
