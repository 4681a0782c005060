package app.fieldsales

import app.fieldsales.ffi.DataScope
import app.fieldsales.ffi.CustomerDraft
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.GeoPoint
import app.fieldsales.ffi.SignedInUser
import app.fieldsales.ffi.generateStoreKey
import app.fieldsales.ffi.newRecordId
import app.fieldsales.ffi.openEngine
import app.fieldsales.ffi.resumeEngine
import java.io.File
import java.security.KeyStore
import javax.crypto.KeyGenerator
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

// The store encrypted with a key the app keeps in a keystore, as StoreKeyVault does on a phone:
// here a PKCS12 keystore file stands in for the Android Keystore (the same java.security.KeyStore
// API; on a phone the wrapping key is made by the AndroidKeyStore provider instead).

private const val NAME = "杭州西湖精密机械有限公司"
private val password = "test-keystore-password".toCharArray()

/** A PKCS12 keystore file: loaded again from the disk for every vault, as after an app restart. */
private class TestKeyStore(val file: File) {
    fun load(): KeyStore =
        KeyStore.getInstance("PKCS12").apply {
            if (file.exists()) file.inputStream().use { load(it, password) } else load(null, password)
        }

    fun vault(wrapped: File): StoreKeyVault {
        val keyStore = load()
        return StoreKeyVault(keyStore, "fieldsales-store", wrapped, password) {
            val key = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
            keyStore.setEntry("fieldsales-store", KeyStore.SecretKeyEntry(key), KeyStore.PasswordProtection(password))
            file.outputStream().use { keyStore.store(it, password) }
            key
        }
    }
}

private fun user() = SignedInUser(newRecordId(), newRecordId(), listOf("sales_rep"), DataScope.OWN, "Asia/Shanghai")

private fun draft() =
    CustomerDraft(
        legalName = NAME,
        shortName = null,
        englishName = null,
        customerType = null,
        industry = "制造业",
        scale = null,
        address = "杭州市西湖区文三路90号",
        location = GeoPoint(30.2741, 120.1551),
        tier = "A",
        source = null,
        tags = emptyList(),
    )

private fun contains(haystack: ByteArray, needle: ByteArray): Boolean =
    (0..haystack.size - needle.size).any { i -> needle.indices.all { haystack[i + it] == needle[it] } }

class EncryptionTest {
    @Test
    fun `the store opens with the key from the keystore and not with another`() =
        runBlocking<Unit> {
            val dir = tempFolder("fieldsales-encrypted").toFile()
            val keys = TestKeyStore(File(dir, "test.p12"))
            val path = File(dir, "rep.sqlite").path
            val wrapped = File(dir, "fieldsales.key")
            val user = user()
            val id =
                openEngine(path, user, keys.vault(wrapped).storeKey()).use { engine ->
                    assertTrue(engine.isEncrypted())
                    engine.createCustomer(draft()).customer.id
                }
            assertFalse(contains(File(path).readBytes(), NAME.toByteArray()), "the name is not in the file")
            assertFalse(wrapped.readBytes().size < 32 + 16, "the saved key is wrapped, with its tag")

            // A restart: the keystore and the wrapped key read again from the disk.
            val key = keys.vault(wrapped).storeKey()
            val before = File(path).readBytes()
            assertFailsWith<FieldsalesException.WrongKey> { resumeEngine(path, generateStoreKey()) }
            assertFailsWith<FieldsalesException.WrongKey> { resumeEngine(path) }
            assertContentEquals(before, File(path).readBytes(), "a wrong key changes nothing")
            assertNotNull(resumeEngine(path, key)).use { engine ->
                assertEquals(user, engine.me())
                assertEquals(NAME, engine.getCustomer(id).legalName)
            }
        }

    @Test
    fun `a new key from the vault replaces the old one`() =
        runBlocking<Unit> {
            val dir = tempFolder("fieldsales-rekey").toFile()
            val keys = TestKeyStore(File(dir, "test.p12"))
            val path = File(dir, "rep.sqlite").path
            val wrapped = File(dir, "fieldsales.key")
            val vault = keys.vault(wrapped)
            val (id, old) =
                openEngine(path, user(), vault.storeKey()).use { engine ->
                    val id = engine.createCustomer(draft()).customer.id
                    val (old, new) = vault.rotate()
                    engine.changeStoreKey(new)
                    vault.committed()
                    id to old
                }
            assertEquals(null, vault.previousKey(), "the old key is gone once the store moved")
            assertFailsWith<FieldsalesException.WrongKey> { resumeEngine(path, old) }
            val key = keys.vault(wrapped).storeKey()
            assertNotNull(resumeEngine(path, key)).use { assertEquals(NAME, it.getCustomer(id).legalName) }
            assertFailsWith<FieldsalesException.InvalidInput> { resumeEngine(path, ByteArray(16)) }
        }
}
