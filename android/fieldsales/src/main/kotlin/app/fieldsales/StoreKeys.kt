package app.fieldsales

import app.fieldsales.ffi.generateStoreKey
import java.io.File
import java.nio.ByteBuffer
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

// The store is encrypted with a random 32-byte key (SQLCipher for the records, sealed files for
// the photos). The app never writes that key in clear: it is wrapped (AES-GCM) by a key that
// lives in the platform keystore and cannot leave it, and only the wrapped bytes are kept, in a
// file beside the store. On Android the wrapping key is an Android Keystore key (hardware-backed
// where the phone has it); on a JVM (the tests) it is a key of a PKCS12 keystore. Both are a
// java.security.KeyStore, so the same code unwraps on both.

/**
 * Keeps the store key of one store, wrapped by the keystore key [alias] of [keyStore], in
 * [wrappedKeyFile].
 *
 * On Android:
 * ```
 * val keyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
 * val vault = StoreKeyVault(keyStore, "fieldsales-store", File(filesDir, "fieldsales.key")) {
 *     KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").apply {
 *         init(
 *             KeyGenParameterSpec.Builder(
 *                 "fieldsales-store",
 *                 KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT,
 *             ).setBlockModes(KeyProperties.BLOCK_MODE_GCM)
 *                 .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
 *                 .setKeySize(256)
 *                 .build(),
 *         )
 *     }.generateKey()
 * }
 * val engine = resumeEngine(storePath, vault.storeKey()) ?: signIn(request, storePath, vault.storeKey())
 * ```
 *
 * @param createWrappingKey makes the keystore key the first time (it must then be in [keyStore]
 *   under [alias]); on Android, a `KeyGenerator` of the "AndroidKeyStore" provider.
 * @param keyPassword the entry's password, for keystores that have one (PKCS12); `null` for the
 *   Android Keystore.
 */
class StoreKeyVault(
    private val keyStore: KeyStore,
    private val alias: String,
    private val wrappedKeyFile: File,
    private val keyPassword: CharArray? = null,
    private val createWrappingKey: () -> SecretKey,
) {
    /**
     * The store key: unwrapped from [wrappedKeyFile], or made, wrapped and saved the first time.
     * Throws [StoreKeyLost] when the file exists but the keystore key can no longer open it (the
     * keystore was reset, the app's data restored on another phone): the store cannot be opened,
     * and the app signs in again into a new store after [forget].
     */
    fun storeKey(): ByteArray {
        if (wrappedKeyFile.exists()) {
            return unwrap(wrappedKeyFile.readBytes())
        }
        val key = generateStoreKey()
        save(wrap(key))
        return key
    }

    /**
     * Makes a new store key, saves it wrapped and returns the old one and the new one, for
     * `engine.changeStoreKey(new)`. The old wrapped key is kept in `<file>.old` until
     * [committed] says the store is under the new key, so a crash in between loses neither.
     */
    fun rotate(): Pair<ByteArray, ByteArray> {
        val old = storeKey()
        val previous = File(wrappedKeyFile.path + ".old")
        wrappedKeyFile.copyTo(previous, overwrite = true)
        val new = generateStoreKey()
        save(wrap(new))
        return old to new
    }

    /** The store is under the key [rotate] made: the old wrapped key is deleted. */
    fun committed() {
        File(wrappedKeyFile.path + ".old").delete()
    }

    /** The key of a store that still answers `WrongKey` after a crash during [rotate]. */
    fun previousKey(): ByteArray? = File(wrappedKeyFile.path + ".old").takeIf { it.exists() }?.let { unwrap(it.readBytes()) }

    /** Deletes the wrapped key (after sign-out, or when it was lost). */
    fun forget() {
        wrappedKeyFile.delete()
        File(wrappedKeyFile.path + ".old").delete()
    }

    private fun wrappingKey(): SecretKey =
        (keyStore.getKey(alias, keyPassword) as? SecretKey) ?: createWrappingKey().also {
            check(keyStore.containsAlias(alias)) { "the wrapping key was made outside the keystore" }
        }

    private fun wrap(key: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey())
        val iv = cipher.iv
        val sealed = cipher.doFinal(key)
        return ByteBuffer.allocate(1 + iv.size + sealed.size).put(iv.size.toByte()).put(iv).put(sealed).array()
    }

    private fun unwrap(wrapped: ByteArray): ByteArray {
        val key = keyStore.getKey(alias, keyPassword) as? SecretKey ?: throw StoreKeyLost("no key $alias in the keystore")
        try {
            val ivSize = wrapped[0].toInt()
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 1, ivSize))
            return cipher.doFinal(wrapped, 1 + ivSize, wrapped.size - 1 - ivSize)
        } catch (e: Exception) {
            throw StoreKeyLost("the keystore key no longer opens the saved store key: ${e.message}")
        }
    }

    private fun save(wrapped: ByteArray) {
        val tmp = File(wrappedKeyFile.path + ".tmp")
        tmp.outputStream().use {
            it.write(wrapped)
            it.fd.sync()
        }
        check(tmp.renameTo(wrappedKeyFile)) { "the wrapped key could not be saved" }
    }
}

/** The saved store key cannot be unwrapped: the store it opened is lost to this app. */
class StoreKeyLost(message: String) : Exception(message)
