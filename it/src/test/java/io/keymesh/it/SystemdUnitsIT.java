package io.keymesh.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The systemd units in {@code ops/systemd} pass {@code systemd-analyze verify} (with the programs
 * pointed at this checkout instead of /usr/bin, so the commands they start exist), and {@code systemd-analyze
 * security} rates their exposure no worse than "OK". They are not started here: this machine
 * has no systemd running.
 */
class SystemdUnitsIT {
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

    @ParameterizedTest
    @ValueSource(strings = {"keymesh-daemon.service", "keymesh-authority.service"})
    void theUnitVerifiesAndIsHardened(String unit, @TempDir Path dir) throws Exception {
        String text = Files.readString(REPOSITORY.resolve("ops/systemd").resolve(unit)).replace("/usr/bin/keymesh", REPOSITORY.resolve("ops/bin/keymesh").toString());
        Path copy = dir.resolve(unit);
        Files.writeString(copy, text);

        Shell.Result verify = Shell.result("systemd-analyze", "verify", "--man=no", copy.toString());
        assertEquals(0, verify.exit(), verify.output());
        assertEquals("", verify.output().strip(), "no warnings");

        Shell.Result security = Shell.result("systemd-analyze", "security", "--offline=true", copy.toString());
        Matcher level = Pattern.compile("Overall exposure level for \\S+: ([0-9.]+) (\\S+)").matcher(security.output());
        assertTrue(level.find(), security.output());
        assertTrue(Double.parseDouble(level.group(1)) <= 5.0, unit + " is exposed " + level.group(1) + " " + level.group(2));
        assertTrue(text.contains("NoNewPrivileges=yes") && text.contains("ProtectSystem=strict") && text.contains("PrivateTmp=yes")
                && text.contains("Restart=on-failure"), "the hardening the operator's guide promises");
    }
}
