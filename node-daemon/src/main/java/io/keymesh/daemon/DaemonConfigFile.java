package io.keymesh.daemon;

import io.keymesh.runtime.EtcdOptions;
import io.keymesh.runtime.YamlConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * The daemon's YAML configuration (typically {@code /etc/keymesh/daemon.yaml}); every key is
 * also a flag, and flags override the file. Unknown keys are errors.
 */
public record DaemonConfigFile(
        List<String> endpoints,
        String prefix,
        String mesh,
        String node,
        List<String> trustedKeys,
        String stateDir,
        String interfaceName,
        String backend,
        String implementation,
        List<String> advertise,
        Integer listenPort,
        Integer keepaliveSeconds,
        Integer mtu,
        String joinTokenFile,
        String http,
        Boolean hostTraffic,
        List<String> hostTrafficExempt,
        String firewallMark,
        Integer routeTable,
        Integer rulePriority,
        Boolean mssClamp,
        String etcdCaFile,
        String etcdCertFile,
        String etcdKeyFile,
        String etcdUser,
        String etcdPasswordFile,
        Integer watchProgressIntervalSeconds,
        Integer watchAnswerTimeoutSeconds) implements EtcdOptions.FileSettings, io.keymesh.runtime.WatchOptions.FileSettings {

    public static final DaemonConfigFile EMPTY = new DaemonConfigFile(null, null, null, null, null, null, null, null, null, null, null,
            null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);

    public static DaemonConfigFile load(Path file) {
        return YamlConfig.load(file, DaemonConfigFile.class, EMPTY);
    }
}
