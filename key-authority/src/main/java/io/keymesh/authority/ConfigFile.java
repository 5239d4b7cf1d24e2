package io.keymesh.authority;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The YAML configuration shared by {@code keymesh-authority} and the {@code keymesh} CLI
 * (typically {@code /etc/keymesh/authority.yaml}). Unknown keys are errors, so a typo never
 * silently falls back to a default. Flags override the file.
 *
 * @param trustedKeys base64 public keys of other authority keys to accept (an authority key rotation)
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
        String http) {

    public static final ConfigFile EMPTY = new ConfigFile(null, null, null, null, null, null, null, null, null, null, null);

    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static ConfigFile load(Path file) {
        if (file == null) {
            return EMPTY;
        }
        try {
            ConfigFile config = YAML.readValue(file.toFile(), ConfigFile.class);
            return config == null ? EMPTY : config;
        } catch (UnrecognizedPropertyException e) {
            throw new IllegalArgumentException(file + ": unknown setting '" + e.getPropertyName() + "' (known: "
                    + e.getKnownPropertyIds() + ")");
        } catch (JsonMappingException e) {
            throw new IllegalArgumentException(file + ": " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            if (e instanceof NoSuchFileException || !file.toFile().exists()) {
                throw new IllegalArgumentException("config file " + file + " does not exist");
            }
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
        }
    }
}
